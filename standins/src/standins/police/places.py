"""Places of 海城市 as the police bureau writes them: towns, villages, roads, rivers, mines.

Towns (codes and approximate centroids) come from the weather stand-in's
geography so both stand-ins agree. Roads (G15 沈海高速, G16 丹锡高速, S321 …)
come from :mod:`standins.common.roads`, the one road table of every stand-in:
same towns, same kilometre posts. Mine and village names are illustrative of
the magnesite belt of the east of the county (牌楼, 八里, 析木, 马风 …).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from standins.common import roads
from standins.weather.geography import TOWNS, Town

__all__ = [
    "MINE_TOWNS",
    "ROADS",
    "TOWNS",
    "Road",
    "Town",
    "coordinates",
    "mine_site",
    "river_place",
    "road_place",
    "street_address",
    "village",
]

# Where the magnesite (菱镁矿) mines are.
MINE_TOWNS = tuple(t for t in TOWNS if t.short_name in ("牌楼", "八里", "析木", "马风", "英落", "孤山", "接文"))
_MINE_SITES = ("华子峪", "青山怀", "下房身", "范家堡子", "铧子峪", "金家堡子", "大岭", "偏岭")
_VILLAGE_STEMS = ("于家", "孙家", "关家", "姜家", "大", "小", "东", "西", "前", "后", "腰", "新")
_VILLAGE_SUFFIXES = ("村", "堡村", "台村", "屯村", "峪村", "岭村", "沟村")
_STREETS = ("永安路", "解放路", "中街", "站前路", "铁西路", "西关街", "腾飞路", "东山路", "海城河大街", "胜利路")
RIVERS = ("海城河", "五道河", "杨柳河")


@dataclass(frozen=True)
class Road:
    code: str
    # As written in addresses: G15沈海高速, S321线.
    name: str
    # Kilometre posts within the county.
    km: tuple[int, int]
    towns: tuple[str, ...]


_POLICE_ROADS = ("G15", "G16", "S321", "S322", "X052", "X054")
_SHORT_NAME = {t.name: t.short_name for t in TOWNS}
ROADS: tuple[Road, ...] = tuple(
    Road(line.code, line.address_name, line.km, tuple(_SHORT_NAME[t] for t in line.towns))
    for line in (roads.ROAD_BY_CODE[code] for code in _POLICE_ROADS)
)


def village(r: random.Random) -> str:
    return r.choice(_VILLAGE_STEMS) + r.choice(_VILLAGE_SUFFIXES)


def street_address(r: random.Random, town: Town) -> str:
    if town.name.endswith("街道"):
        return f"海城市{town.name}{r.choice(_STREETS)}{r.randrange(1, 300)}号"
    return f"海城市{town.name}{village(r)}{r.randrange(1, 12)}组"


def road_place(r: random.Random) -> tuple[Road, Town, str]:
    road = r.choice(ROADS)
    km = r.randrange(*road.km)
    # The town at that kilometre post, as in every stand-in (standins.common.roads).
    town = next(t for t in TOWNS if t.name == roads.ROAD_BY_CODE[road.code].town_at(km))
    return road, town, f"{road.name}K{km}+{r.randrange(0, 1000, 50)}处"


def river_place(r: random.Random) -> tuple[Town, str]:
    town = r.choice(TOWNS)
    return town, f"{r.choice(RIVERS)}{town.short_name}段"


def mine_site(r: random.Random) -> tuple[Town, str]:
    town = r.choice(MINE_TOWNS)
    return town, f"海城市{town.name}{r.choice(_MINE_SITES)}"


def coordinates(r: random.Random, town: Town) -> tuple[float, float]:
    return round(town.lon + r.uniform(-0.03, 0.03), 6), round(town.lat + r.uniform(-0.025, 0.025), 6)
