"""Places of 海城市 as the police bureau writes them: towns, villages, roads, rivers, mines.

Towns (codes and approximate centroids) come from the weather stand-in's
geography so both stand-ins agree. Road numbers follow police.md (G1 沈海高速,
S321, X052); mine and village names are illustrative of the magnesite belt of
the east of the county (牌楼, 八里, 析木, 马风 …).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

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
    # As written in addresses: G1沈海高速, S321线.
    name: str
    # Kilometre posts within the county.
    km: tuple[int, int]
    towns: tuple[str, ...]


ROADS: tuple[Road, ...] = (
    Road("G1", "G1沈海高速", (300, 345), ("八里", "王石", "感王", "东四方台", "中小")),
    Road("G16", "G16丹锡高速", (180, 230), ("析木", "牌楼", "八里", "西四")),
    Road("S321", "S321线", (40, 95), ("马风", "析木", "海州", "西柳", "牛庄")),
    Road("S322", "S322线", (10, 60), ("腾鳌", "南台", "毛祁")),
    Road("X052", "X052线", (0, 28), ("孤山", "岔沟", "接文")),
    Road("X054", "X054线", (0, 22), ("英落", "牌楼")),
)


def village(r: random.Random) -> str:
    return r.choice(_VILLAGE_STEMS) + r.choice(_VILLAGE_SUFFIXES)


def street_address(r: random.Random, town: Town) -> str:
    if town.name.endswith("街道"):
        return f"海城市{town.name}{r.choice(_STREETS)}{r.randrange(1, 300)}号"
    return f"海城市{town.name}{village(r)}{r.randrange(1, 12)}组"


def road_place(r: random.Random) -> tuple[Road, Town, str]:
    road = r.choice(ROADS)
    short = r.choice(road.towns)
    town = next(t for t in TOWNS if t.short_name == short)
    km = r.randrange(*road.km)
    return road, town, f"{road.name}K{km}+{r.randrange(0, 1000, 50)}处"


def river_place(r: random.Random) -> tuple[Town, str]:
    town = r.choice(TOWNS)
    return town, f"{r.choice(RIVERS)}{town.short_name}段"


def mine_site(r: random.Random) -> tuple[Town, str]:
    town = r.choice(MINE_TOWNS)
    return town, f"海城市{town.name}{r.choice(_MINE_SITES)}"


def coordinates(r: random.Random, town: Town) -> tuple[float, float]:
    return round(town.lon + r.uniform(-0.03, 0.03), 6), round(town.lat + r.uniform(-0.025, 0.025), 6)
