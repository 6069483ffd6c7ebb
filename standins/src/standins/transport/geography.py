"""Where the transport bureau's records lie: roads, towns, neighbouring counties.

Town codes and centroids come from :mod:`standins.weather.geography` (a copy of
``/work/shared/reference/haicheng_divisions_2022.csv``). Roads, their towns
and kilometre posts come from :mod:`standins.common.roads`, the one road table
of every stand-in: ``G15`` 沈海高速 (the old 沈大高速 past Haicheng; the
contract's example ``G1`` is 京哈高速, which does not pass Haicheng),
``G202`` 黑大线 beside it, ``S321`` and ``X052``. Here they get what only the
transport bureau records: directions, manager, whether the road is in the
hills. Alignments are polylines through town centroids and stake ranges are
plausible, not surveyed: good enough for maps and joins by division code.
"""

from __future__ import annotations

from dataclasses import dataclass

from standins.common import roads
from standins.weather.geography import TOWNS, Town

TOWN_BY_NAME: dict[str, Town] = {t.name: t for t in TOWNS}


@dataclass(frozen=True)
class Road:
    code: str
    name: str
    km_from: float
    km_to: float
    towns: tuple[str, ...]
    directions: tuple[str, str]
    manager: str
    # Hill roads in the east of the county: rock falls and landslides happen there.
    mountainous: bool = False

    def waypoints(self) -> list[Town]:
        return [TOWN_BY_NAME[name] for name in self.towns]

    def locate(self, km: float) -> tuple[float, float, str]:
        """(lon, lat, division code) at kilometre ``km``, interpolated between town centroids."""
        line = roads.ROAD_BY_CODE[self.code]
        i, frac = line.position(km)
        points = self.waypoints()
        a, b = points[i], points[i + 1]
        lon = a.lon + (b.lon - a.lon) * frac
        lat = a.lat + (b.lat - a.lat) * frac
        return round(lon, 5), round(lat, 5), TOWN_BY_NAME[line.town_at(km)].code12


def _road(code: str, directions: tuple[str, str], manager: str, *, mountainous: bool = False) -> Road:
    line = roads.ROAD_BY_CODE[code]
    return Road(code, line.name, line.km_from, line.km_to, line.towns, directions, manager, mountainous)


ROADS: tuple[Road, ...] = (
    _road("G15", ("沈阳方向", "大连方向"), "辽宁省高速公路运营管理有限责任公司鞍山分公司"),
    _road("G202", ("沈阳方向", "大石桥方向"), "海城市公路事业发展中心"),
    _road("S321", ("岫岩方向", "海城方向"), "海城市公路事业发展中心", mountainous=True),
    _road("X052", ("上行", "下行"), "海城市农村公路管理所", mountainous=True),
)
ROAD_BY_CODE: dict[str, Road] = {r.code: r for r in ROADS}

# Rivers the bridges cross: 海城河 and its tributaries (the roads stay east of the 大辽河).
RIVERS: tuple[str, ...] = ("海城河", "五道河", "杨柳河", "海城河支流")

# Neighbouring counties (6-digit county code + 000000): hazmat waybills start or end there.
OUTSIDE: dict[str, str] = {
    "210302000000": "鞍山市铁东区",
    "210303000000": "鞍山市铁西区",
    "210304000000": "鞍山市立山区",
    "210311000000": "鞍山市千山区",
    "210321000000": "鞍山市台安县",
    "210323000000": "鞍山市岫岩满族自治县",
    "210804000000": "营口市鲅鱼圈区",
    "210881000000": "盖州市",
    "210882000000": "大石桥市",
    "211002000000": "辽阳市白塔区",
    "211081000000": "灯塔市",
    "210211000000": "大连市甘井子区",
    "210106000000": "沈阳市铁西区",
}


def stake(km: float) -> str:
    """桩号: kilometre and metres, ``K123+450``."""
    metres = round(km * 1000)
    return f"K{metres // 1000}+{metres % 1000:03d}"


def town(code12: str) -> Town:
    for t in TOWNS:
        if t.code12 == code12:
            return t
    raise KeyError(code12)
