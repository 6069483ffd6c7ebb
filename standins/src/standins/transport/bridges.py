"""桥梁: the bridge register, imported in one batch, re-inspected in monthly batches.

Inspection results (JTG/T H21 技术状况等级 1–5) are imported on the 10th of each
month at 09:00:00, one stamp for the whole batch. Bridge ``i`` depends only on
(seed, i), so a larger scale extends a smaller one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from standins.common.determinism import rng
from standins.common.timefmt import CST
from standins.transport.geography import RIVERS, ROADS, Road, stake, town
from standins.transport.model import Entity, Resource, Version
from standins.transport.stamps import to_second

RESOURCE = Resource(
    "bridges",
    "bridge_code",
    (
        "bridge_code",
        "name",
        "road_code",
        "stake",
        "length_m",
        "spans",
        "built_year",
        "tech_grade",
        "last_inspection",
        "manager",
        "lon",
        "lat",
        "division_code",
    ),
)
BRIDGES_AT_SCALE_1 = 160
HORIZON = timedelta(days=400)
_ROAD_WEIGHTS = (0.35, 0.25, 0.25, 0.15)
_GRADE_WEIGHTS = (0.28, 0.42, 0.2, 0.08, 0.02)
_SPAN_M = {"小桥": (8, 13), "中桥": (13, 25), "大桥": (20, 40), "分离式立交桥": (16, 30)}
_LENGTH_M = {"小桥": (8, 30), "中桥": (30, 100), "大桥": (100, 780), "分离式立交桥": (40, 120)}
_BUILT = {"G15": (1988, 2004), "G202": (1972, 2015), "S321": (1978, 2018), "X052": (1983, 2021)}


def bridge_count(scale: float) -> int:
    return max(4, round(BRIDGES_AT_SCALE_1 * scale))


def generate_bridges(seed: int, scale: float, imported_at: datetime) -> list[Entity]:
    per_road: dict[str, int] = {}
    entities = []
    for i in range(bridge_count(scale)):
        r = rng(seed, "bridge", i)
        road = r.choices(ROADS, weights=_ROAD_WEIGHTS)[0]
        per_road[road.code] = per_road.get(road.code, 0) + 1
        fields = _bridge(seed, i, road, per_road[road.code], imported_at)
        entities.append(Entity(fields["bridge_code"], _life(seed, i, fields, imported_at)))
    return entities


def _bridge(seed: int, i: int, road: Road, seq: int, imported_at: datetime) -> dict[str, Any]:
    r = rng(seed, "bridge-fields", i)
    km = r.uniform(road.km_from + 0.3, road.km_to - 0.3)
    lon, lat, division = road.locate(km)
    overpass = 0.13 if road.code == "G15" else 0.0  # only the expressway has grade-separated crossings
    kind = r.choices(("小桥", "中桥", "大桥", "分离式立交桥"), weights=(0.45, 0.32, 0.1, overpass))[0]
    place = town(division).short_name
    river = r.choice(RIVERS)
    name = f"{place}分离式立交桥" if kind == "分离式立交桥" else f"{place}{river}{kind}"
    length = round(r.uniform(*_LENGTH_M[kind]), 1)
    spans = max(1, round(length / r.uniform(*_SPAN_M[kind])))
    built = r.randint(*_BUILT[road.code])
    grade = _grade(r, i, built)
    inspected = imported_at.date() - timedelta(days=r.randint(20, 360))
    return {
        "bridge_code": f"{road.code}210381L{seq:04d}",
        "name": name,
        "road_code": road.code,
        "stake": stake(km),
        "length_m": length,
        "spans": spans,
        "built_year": built,
        "tech_grade": grade,
        "last_inspection": inspected.isoformat(),
        "manager": road.manager,
        "lon": round(lon + r.uniform(-0.002, 0.002), 5),
        "lat": round(lat + r.uniform(-0.002, 0.002), 5),
        "division_code": division,
    }


def _grade(r: Any, i: int, built: int) -> int:
    # Fixed positions guarantee poor (4) and dangerous (5) bridges at every scale >= 0.25.
    if i % 40 == 7:
        return 5
    if i % 20 == 3:
        return 4
    grade = r.choices((1, 2, 3, 4, 5), weights=_GRADE_WEIGHTS)[0]
    return min(5, grade + 1) if built < 1990 and grade < 4 and r.random() < 0.4 else grade


def import_stamp(moment: date) -> datetime:
    """The monthly inspection import that follows ``moment``: the 10th at 09:00:00."""
    stamp = datetime(moment.year, moment.month, 10, 9, tzinfo=CST)
    if stamp.date() <= moment:
        month = moment.month % 12 + 1
        stamp = datetime(moment.year + (moment.month == 12), month, 10, 9, tzinfo=CST)
    return stamp


def _life(seed: int, i: int, fields: dict[str, Any], imported_at: datetime) -> tuple[Version, ...]:
    r = rng(seed, "bridge-life", i)
    versions = [Version(to_second(imported_at), dict(fields))]
    current = dict(fields)
    inspected = date.fromisoformat(current["last_inspection"])
    end = imported_at + HORIZON
    while True:
        inspected += timedelta(days=r.randint(330, 400))
        stamp = import_stamp(inspected)
        if stamp > end:
            break
        current = {**current, "last_inspection": inspected.isoformat()}
        if r.random() < 0.2:
            current["tech_grade"] = min(5, max(1, current["tech_grade"] + r.choice((-1, 1))))
        versions.append(Version(stamp, dict(current)))
    if r.random() < 0.01:
        # Demolished and replaced: the record is withdrawn in a later import.
        gone = import_stamp(imported_at.date() + timedelta(days=r.randint(10, 300)))
        versions = [v for v in versions if v.at < gone]
        versions.append(Version(gone, dict(versions[-1].fields), deleted=True))
    return tuple(versions)
