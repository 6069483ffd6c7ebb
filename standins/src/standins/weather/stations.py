"""Deterministic station network for a seed and scale.

Station ``i`` depends only on (seed, kind, i), so a larger scale extends the
network of a smaller one instead of reshuffling it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from standins.common.determinism import rng, unit
from standins.weather.geography import COUNTY_SEAT, TOWNS, Town

STATIONS_AT_SCALE_1 = 40
NATIONAL_SHARE = 3 / 40
INACTIVE_SHARE = 0.05
# The contract's own example id; the county's national station keeps it.
FIRST_NATIONAL_ID = "54471"

_TOWN_SUFFIXES = ("", "镇区", "水库", "中学", "林场", "北山", "南沟", "东岭", "西河", "农场")
_STREET_SUFFIXES = ("", "公园", "社区", "二中", "河堤", "体育场", "医院", "车站", "北关", "南关")


@dataclass(frozen=True)
class Station:
    station_id: str
    name: str
    lon: float
    lat: float
    altitude_m: float
    division_code: str
    kind: str
    active: bool
    # Not served: how windy the site is, used by the weather model.
    exposure: float = 1.0

    def public(self) -> dict[str, object]:
        data = asdict(self)
        del data["exposure"]
        return data


def station_count(scale: float) -> int:
    return max(1, round(STATIONS_AT_SCALE_1 * scale))


def generate_stations(seed: int, scale: float = 1.0) -> list[Station]:
    """Stations sorted by ``station_id``."""
    total = station_count(scale)
    n_national = max(1, round(total * NATIONAL_SHARE))
    n_regional = total - n_national

    national_ids = [FIRST_NATIONAL_ID, *_shuffled_ids(seed, "national", 54400, 54500, FIRST_NATIONAL_ID)]
    regional_ids = _shuffled_ids(seed, "regional", 1000, 10000)
    town_order = list(TOWNS)
    rng(seed, "town-order").shuffle(town_order)

    stations: list[Station] = []
    per_town: dict[str, int] = {}
    for i in range(n_national):
        town = COUNTY_SEAT if i == 0 else town_order[(i * 7) % len(town_order)]
        name = "海城" if i == 0 else f"海城{town.short_name}"
        stations.append(_place(seed, "national", i, national_ids[i], name, town, active=True))
    inactive = _inactive_indexes(seed, n_regional)
    for i in range(n_regional):
        town = town_order[i % len(town_order)]
        k = per_town.get(town.code12, 0)
        per_town[town.code12] = k + 1
        suffixes = _STREET_SUFFIXES if town.name.endswith("街道") else _TOWN_SUFFIXES
        suffix = suffixes[k] if k < len(suffixes) else f"{k}号"
        letter = "AB"[(i // 9000) % 2]
        station_id = f"{letter}{regional_ids[i % 9000]}"
        stations.append(_place(seed, "regional", i, station_id, town.short_name + suffix, town, i not in inactive))
    return sorted(stations, key=lambda s: s.station_id)


def _shuffled_ids(seed: int, kind: str, low: int, high: int, skip: str = "") -> list[str]:
    ids = [str(n) for n in range(low, high) if str(n) != skip]
    rng(seed, "ids", kind).shuffle(ids)
    return ids


def _inactive_indexes(seed: int, n_regional: int) -> set[int]:
    # A fixed count rather than a per-station coin, so scale 1 always has "a couple".
    count = round(n_regional * INACTIVE_SHARE)
    ranked = sorted(range(n_regional), key=lambda i: unit(seed, "inactive", i))
    return set(ranked[:count])


def _place(seed: int, kind: str, i: int, station_id: str, name: str, town: Town, active: bool) -> Station:
    r = rng(seed, "station", kind, i)
    exact = kind == "national" and i == 0
    lon = town.lon + (0.0 if exact else r.uniform(-0.035, 0.035))
    lat = town.lat + (0.0 if exact else r.uniform(-0.025, 0.025))
    # Regional stations in the hills often sit on slopes or ridges above the town.
    hill = town.altitude_m > 60
    altitude = town.altitude_m * (r.uniform(0.8, 1.9) if hill else r.uniform(0.7, 1.3))
    return Station(
        station_id=station_id,
        name=name,
        lon=round(lon, 4),
        lat=round(lat, 4),
        altitude_m=round(altitude, 1),
        division_code=town.code12,
        kind=kind,
        active=active,
        exposure=round(r.uniform(0.75, 1.3), 3),
    )
