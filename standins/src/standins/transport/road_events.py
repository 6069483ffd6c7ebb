"""路况事件: road events reported every hour, each with its whole life.

Accidents and congestion on the expressway come from the operator's feed,
synced every 5 minutes (shared stamps); everything else is entered by the
duty officer one event at a time. Roadworks are announced ahead of their
start. Landslides and rock falls happen only on the hill roads of the east.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from standins.common.determinism import rng
from standins.common.timefmt import CST, iso_cst
from standins.transport.geography import ROADS, Road, stake
from standins.transport.model import Entity, Resource, Version
from standins.transport.stamps import ceil_to, epoch, poisson, to_second

RESOURCE = Resource(
    "road-events",
    "event_id",
    (
        "event_id",
        "type",
        "road_code",
        "stake_from",
        "stake_to",
        "direction",
        "lon",
        "lat",
        "division_code",
        "start_time",
        "expected_end",
        "actual_end",
        "status",
        "detour",
    ),
)
EVENTS_PER_HOUR_AT_SCALE_1 = 0.15
_ROAD_WEIGHTS = (0.4, 0.3, 0.18, 0.12)
# type: (share, extent km, expected duration hours, both directions share)
_TYPES: dict[str, tuple[float, tuple[float, float], tuple[float, float], float]] = {
    "施工": (0.25, (0.5, 5.0), (48, 720), 0.3),
    "事故": (0.25, (0.0, 0.2), (1, 4), 0.0),
    "拥堵": (0.2, (1.0, 6.0), (0.5, 2), 0.0),
    "恶劣天气管制": (0.15, (5.0, 30.0), (3, 18), 1.0),
    "封闭": (0.08, (1.0, 15.0), (2, 12), 0.6),
    "地质灾害阻断": (0.07, (0.05, 0.3), (6, 72), 1.0),
}
_DETOURS = {
    "G15": "车辆可由海城收费站驶出，经G202绕行",
    "G202": "经G15沈海高速绕行",
    "S321": "经X052绕行",
    "X052": "经S321绕行",
}


def events_in_hour(seed: int, scale: float, hour: datetime) -> list[Entity]:
    r = rng(seed, "road-events", epoch(hour))
    entities = []
    for i in range(poisson(r, EVENTS_PER_HOUR_AT_SCALE_1 * scale)):
        reported = hour + timedelta(seconds=r.randint(0, 3599))
        entities.append(_event(rng(seed, "road-event", epoch(hour), i), hour, i, reported))
    return entities


def _pick(r: Any) -> tuple[Road, str]:
    road = r.choices(ROADS, weights=_ROAD_WEIGHTS)[0]
    names = [t for t in _TYPES if road.mountainous or t != "地质灾害阻断"]
    kind = r.choices(names, weights=[_TYPES[t][0] for t in names])[0]
    return road, kind


def _event(r: Any, hour: datetime, i: int, reported: datetime) -> Entity:
    road, kind = _pick(r)
    _, extent, duration, both = _TYPES[kind]
    length = min(r.uniform(*extent), (road.km_to - road.km_from) * 0.8)
    km_from = r.uniform(road.km_from, road.km_to - length)
    km_to = km_from + length
    lon, lat, division = road.locate(km_from)
    start = reported + (timedelta(hours=r.randint(12, 96)) if kind == "施工" else timedelta(minutes=-r.randint(3, 40)))
    expected = start + timedelta(hours=r.uniform(*duration))
    closes = kind in ("封闭", "地质灾害阻断", "恶劣天气管制") or (kind == "施工" and r.random() < 0.3)
    fields: dict[str, Any] = {
        "event_id": f"RE210381{hour.astimezone(CST):%Y%m%d%H}{i:02d}",
        "type": kind,
        "road_code": road.code,
        "stake_from": stake(km_from),
        "stake_to": stake(km_to),
        "direction": "双向" if r.random() < both else r.choice(road.directions),
        "lon": lon,
        "lat": lat,
        "division_code": division,
        "start_time": iso_cst(to_second(start)),
        "expected_end": iso_cst(to_second(expected)),
        "actual_end": None,
        "status": "进行中",
        "detour": _DETOURS[road.code] if closes else None,
    }
    return Entity(fields["event_id"], tuple(_life(r, road, kind, fields, reported, start, expected)))


def _stamp(r: Any, road: Road, kind: str, moment: datetime) -> datetime:
    if road.code == "G15" and kind in ("事故", "拥堵"):
        return ceil_to(moment, 5)
    return to_second(moment + timedelta(seconds=r.randint(30, 600)))


def _life(
    r: Any, road: Road, kind: str, fields: dict[str, Any], reported: datetime, start: datetime, expected: datetime
) -> list[Version]:
    versions = [Version(_stamp(r, road, kind, reported), dict(fields))]
    if r.random() < 0.03:
        # A duplicate or false report, withdrawn soon after.
        withdrawn = versions[0].at + timedelta(minutes=r.randint(5, 40))
        versions.append(Version(withdrawn, dict(fields), deleted=True))
        return versions
    current = dict(fields)
    end = max(start + (expected - start) * r.uniform(0.6, 1.5), reported + timedelta(minutes=10))
    if kind in ("施工", "地质灾害阻断") and r.random() < 0.3:
        extended = expected + (expected - start) * r.uniform(0.2, 0.8)
        current = {**current, "expected_end": iso_cst(to_second(extended))}
        midway = start + (end - start) * r.uniform(0.2, 0.8)
        versions.append(Version(_stamp(r, road, kind, max(midway, reported)), dict(current)))
        end = max(end, extended - (extended - start) * 0.1)
    done = {**current, "actual_end": iso_cst(to_second(end)), "status": "已解除"}
    stamp = _stamp(r, road, kind, end)
    versions.append(Version(max(stamp, versions[-1].at), done))
    return versions
