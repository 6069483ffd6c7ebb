"""The station network of 海城市's rain/water database, deterministic for a seed.

Station ``i`` of a kind depends only on (seed, kind, i), so a larger network
extends a smaller one instead of reshuffling it, and :func:`build_network`
can rebuild the same stations from the counts found in a database.

Invented but plausible: station codes (8 characters; the county's older
self-built rain gauges keep 6-character codes, which ``CHAR(8)`` pads), the
reservoir names (named after the town they lie in), the river courses (which
towns each river passes, upstream first) and every level and threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from standins.common.determinism import rng, unit
from standins.weather.geography import TOWNS, Town

ADDVCD = "210381"
HNNM = "辽河"
BSNM = "大辽河"
TOWN_BY_NAME = {t.name: t for t in TOWNS}

# Rivers and the towns they pass, upstream first; the first town named after the
# river is where its main hydrological (ZQ) station stands.
RIVERS: dict[str, tuple[str, ...]] = {
    "海城河": ("岔沟镇", "孤山镇", "析木镇", "响堂街道", "海州街道", "兴海街道", "八里镇", "感王镇", "西四镇"),
    "五道河": ("接文镇", "马风镇", "东四街道", "东四方台街道", "中小镇"),
    "杨柳河": ("英落镇", "王石镇", "感王镇"),
    "八里河": ("牌楼镇", "八里镇"),
}
MAIN_STATION = {
    "海城河": ("海州街道", "海城"),
    "五道河": ("东四街道", "东四"),
    "杨柳河": ("王石镇", "王石"),
    "八里河": ("八里镇", "八里"),
}
# The order in which river stations are added as the network grows.
RIVER_CYCLE = ("海城河", "五道河", "杨柳河", "八里河", "海城河", "五道河", "海城河", "杨柳河", "八里河", "海城河")
# Rating-curve coefficient per river: Q = a (Z - z0)^1.6.
RATING_A = {"海城河": 62.0, "五道河": 28.0, "杨柳河": 24.0, "八里河": 18.0}

RESERVOIRS: tuple[tuple[str, str, str], ...] = (
    ("岔沟水库", "岔沟镇", "海城河"),
    ("孤山水库", "孤山镇", "海城河"),
    ("接文水库", "接文镇", "五道河"),
    ("析木水库", "析木镇", "海城河"),
    ("英落水库", "英落镇", "杨柳河"),
    ("马风水库", "马风镇", "五道河"),
    ("牌楼水库", "牌楼镇", "八里河"),
    ("毛祁水库", "毛祁镇", "五道河"),
    ("王石水库", "王石镇", "杨柳河"),
    ("响堂水库", "响堂街道", "海城河"),
)
OTHER_STATIONS: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "DD": (
        ("海城河一号橡胶坝", "海州街道", "海城河"),
        ("海城河二号橡胶坝", "兴海街道", "海城河"),
        ("海城河三号橡胶坝", "响堂街道", "海城河"),
        ("五道河拦河闸", "东四街道", "五道河"),
    ),
    "MM": (("海城气象", "海州街道", None), ("析木气象", "析木镇", None)),
    "ZG": (("西柳地下水", "西柳镇", None), ("牛庄地下水", "牛庄镇", None)),
}
AT_SCALE_1 = {"PP": 80, "RIVER": 22, "RR": 10, "DD": 4, "MM": 2, "ZG": 2}
_VILLAGES = (
    "东沟",
    "南岭",
    "北山",
    "西堡",
    "大屯",
    "二台子",
    "三道岭",
    "石门",
    "黄土坎",
    "前营",
    "后峪",
    "英家",
    "高家",
    "李家堡",
    "王家岭",
    "河口",
)
# Flood-season periods (MMDD, MMDD, FSTP) covering the whole year without wrapping
# past New Year: main season, late season, and the rest (limit = normal pool level).
SEASONS = (("0101", "0531", "4"), ("0601", "0915", "1"), ("0916", "1031", "2"), ("1101", "1231", "4"))


@dataclass(frozen=True)
class Station:
    stcd: str
    stnm: str
    sttp: str
    town: Town
    lgtd: float
    lttd: float
    rvnm: str | None
    frgrd: str
    usfl: str
    moditime: datetime
    comments: str | None = None
    # Model parameters (not in the database).
    index: int = 0
    position: float = 0.0  # 0 upstream .. 1 downstream
    params: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, object]:
        return {
            "STCD": self.stcd,
            "STNM": self.stnm,
            "RVNM": self.rvnm,
            "HNNM": HNNM if self.rvnm else None,
            "BSNM": BSNM if self.rvnm else None,
            "LGTD": round(self.lgtd, 6),
            "LTTD": round(self.lttd, 6),
            "STLC": f"辽宁省海城市{self.town.name}",
            "ADDVCD": ADDVCD,
            "STTP": self.sttp,
            "FRGRD": self.frgrd,
            "USFL": self.usfl,
            "COMMENTS": self.comments,
            "MODITIME": self.moditime,
        }


@dataclass(frozen=True)
class Network:
    gauges: list[Station]
    rivers: list[Station]
    reservoirs: list[Station]
    others: list[Station]

    @property
    def all(self) -> list[Station]:
        return [*self.gauges, *self.rivers, *self.reservoirs, *self.others]

    @property
    def active_gauges(self) -> list[Station]:
        return [g for g in self.gauges if g.usfl == "1"]


def counts_for_scale(scale: float) -> dict[str, int]:
    counts = {kind: max(1, round(n * scale)) for kind, n in AT_SCALE_1.items()}
    counts["PP"] = max(2, counts["PP"])
    counts["RIVER"] = max(len(RIVERS), counts["RIVER"])  # one main station per river at least
    counts["RR"] = min(counts["RR"], len(RESERVOIRS))
    for kind, stations in OTHER_STATIONS.items():
        counts[kind] = min(counts[kind], len(stations))
    return counts


def _moditime(seed: int, kind: str, i: int) -> datetime:
    r = rng(seed, "moditime", kind, i)
    return datetime(
        2023 + r.randrange(3),
        1 + r.randrange(12),
        1 + r.randrange(28),
        8 + r.randrange(9),
        r.randrange(60),
        r.randrange(60),
    )


def _jitter(seed: int, kind: str, i: int, town: Town, spread: float) -> tuple[float, float]:
    return (
        town.lon + (unit(seed, kind, i, "lon") - 0.5) * spread,
        town.lat + (unit(seed, kind, i, "lat") - 0.5) * spread,
    )


def _gauge(seed: int, i: int, town_order: list[Town], used: dict[str, int]) -> Station:
    town = town_order[i % len(town_order)]
    k = used.get(town.name, 0)
    used[town.name] = k + 1
    village = _VILLAGES[(int(unit(seed, "village", town.name) * len(_VILLAGES)) + k) % len(_VILLAGES)]
    legacy = i % 5 == 4
    lon, lat = _jitter(seed, "PP", i, town, 0.08)
    return Station(
        stcd=f"41{1000 + i:04d}" if legacy else f"2141{2000 + i:04d}",
        stnm=f"{town.short_name}{village}",
        sttp="PP",
        town=town,
        lgtd=lon,
        lttd=lat,
        rvnm=None,
        frgrd="4" if legacy else "3",
        usfl="0" if i == 17 else "1",  # one retired gauge: in the register, no data
        moditime=_moditime(seed, "PP", i),
        comments="县级自建站" if legacy else ("已停用" if i == 17 else None),
        index=i,
    )


def _river_station(seed: int, i: int, seen: dict[str, int]) -> Station:
    river = RIVER_CYCLE[i % len(RIVER_CYCLE)] if i >= len(RIVERS) else tuple(RIVERS)[i]
    j = seen.get(river, 0)
    seen[river] = j + 1
    towns = RIVERS[river]
    if j == 0:
        town_name, name = MAIN_STATION[river]
    else:
        town_name = towns[(j * 3 + int(unit(seed, "rv-town", river) * len(towns))) % len(towns)]
        name = TOWN_BY_NAME[town_name].short_name + ("桥" if j % 2 else "") + ("" if j < 3 else str(j))
    town = TOWN_BY_NAME[town_name]
    r = rng(seed, "river", i)
    base = town.altitude_m - 2.5 + r.random()
    wrz = base + 2.2 + 0.8 * r.random()
    grz = wrz + 1.0 + 0.6 * r.random()
    ldkel = grz + 0.6 + 0.4 * r.random()
    lon, lat = _jitter(seed, "river", i, town, 0.03)
    return Station(
        stcd=f"2140{1100 + i:04d}",
        stnm=name,
        sttp="ZQ" if j == 0 else "ZZ",
        town=town,
        lgtd=lon,
        lttd=lat,
        rvnm=river,
        frgrd="2" if j == 0 else "3",
        usfl="1",
        moditime=_moditime(seed, "river", i),
        index=i,
        position=towns.index(town_name) / max(1, len(towns) - 1),
        params={
            "base": base,
            "wrz": wrz,
            "grz": grz,
            "ldkel": ldkel,
            "rdkel": ldkel + 0.4 * r.random() - 0.2,
            "z0": base - 0.4,
            "a": RATING_A[river],
            "share": r.random(),
        },
    )


def _reservoir(seed: int, i: int) -> Station:
    name, town_name, river = RESERVOIRS[i]
    town = TOWN_BY_NAME[town_name]
    r = rng(seed, "reservoir", i)
    dead = town.altitude_m + 5 + 10 * r.random()
    normal = dead + 12 + 8 * r.random()
    lon, lat = _jitter(seed, "RR", i, town, 0.05)
    return Station(
        stcd=f"2142{1200 + i:04d}",
        stnm=name,
        sttp="RR",
        town=town,
        lgtd=lon,
        lttd=lat,
        rvnm=river,
        frgrd="2" if i < 3 else "3",
        usfl="1",
        moditime=_moditime(seed, "RR", i),
        index=i,
        params={
            "dead": dead,
            "normal": normal,
            "main": normal - 1.5 - r.random(),
            "late": normal - 0.6 - 0.4 * r.random(),
            # Storage W(Z) = w_dead + k (Z - dead)^1.5 in 10^6 m³, 2-30 at the normal level.
            "w_dead": 0.2 + r.random(),
            "k": (2 + 28 * r.random()) / (normal - dead) ** 1.5,
            "gap": 0.6 + r.random(),
            "release": 0.5 + 2 * r.random(),
        },
    )


def build_network(seed: int, counts: dict[str, int]) -> Network:
    town_order = list(TOWNS)
    rng(seed, "gauge-towns").shuffle(town_order)
    used: dict[str, int] = {}
    gauges = [_gauge(seed, i, town_order, used) for i in range(counts.get("PP", 0))]
    seen: dict[str, int] = {}
    rivers = [_river_station(seed, i, seen) for i in range(counts.get("RIVER", 0))]
    reservoirs = [_reservoir(seed, i) for i in range(counts.get("RR", 0))]
    others = []
    for kind, entries in OTHER_STATIONS.items():
        for i, (name, town_name, river) in enumerate(entries[: counts.get(kind, 0)]):
            town = TOWN_BY_NAME[town_name]
            lon, lat = _jitter(seed, kind, i, town, 0.03)
            code = {"DD": "2143", "MM": "2144", "ZG": "2145"}[kind]
            others.append(
                Station(
                    f"{code}{1300 + i:04d}",
                    name,
                    kind,
                    town,
                    lon,
                    lat,
                    river,
                    "4" if kind != "MM" else "3",
                    "1",
                    _moditime(seed, kind, i),
                    index=i,
                )
            )
    return Network(gauges, rivers, reservoirs, others)


def storage(res: Station, z: float) -> float:
    """Storage in 10^6 m³ at level ``z``."""
    p = res.params
    return p["w_dead"] + p["k"] * max(0.0, z - p["dead"]) ** 1.5


def discharge(river: Station, z: float) -> float:
    p = river.params
    return p["a"] * max(0.0, z - p["z0"]) ** 1.6


def flood_limit(res: Station, mmdd: str) -> tuple[float, str]:
    """The flood-limit level that applies on ``mmdd`` and its season type."""
    for begin, end, fstp in SEASONS:
        if begin <= mmdd <= end:
            return season_level(res, fstp), fstp
    raise ValueError(f"no season covers {mmdd}")


def season_level(res: Station, fstp: str) -> float:
    return {"1": res.params["main"], "2": res.params["late"]}.get(fstp, res.params["normal"])


def threshold_rows(net: Network) -> list[dict[str, object]]:
    rows = []
    for s in net.rivers:
        p = s.params
        rows.append(
            {
                "STCD": s.stcd,
                "WRZ": round(p["wrz"], 3),
                "WRQ": round(discharge(s, p["wrz"]), 3),
                "GRZ": round(p["grz"], 3),
                "GRQ": round(discharge(s, p["grz"]), 3),
                "LDKEL": round(p["ldkel"], 3),
                "RDKEL": round(p["rdkel"], 3),
                "MODITIME": s.moditime,
            }
        )
    return rows


def flood_limit_rows(net: Network) -> list[dict[str, object]]:
    rows = []
    for s in net.reservoirs:
        for begin, end, fstp in SEASONS:
            level = season_level(s, fstp)
            rows.append(
                {
                    "STCD": s.stcd,
                    "BGMD": begin,
                    "EDMD": end,
                    "FSLTDZ": round(level, 3),
                    "FSLTDW": round(storage(s, level), 3),
                    "FSTP": fstp,
                    "MODITIME": s.moditime,
                }
            )
    return rows


def distance_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = (lon1 - lon2) * 111.32 * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat1 - lat2) * 110.57
    return math.hypot(dx, dy)
