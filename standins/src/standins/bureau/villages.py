"""Stand-in villages (村委会) and residents' committees (居委会) under each town, for 辖区基础信息 and 灾害信息员台账.

NOT official: the reference divisions (ref_divisions) stop at towns, so the
village list is invented, deterministic per seed. Codes follow the 统计用区划代码
rule for the fourth level: the town's 9 digits, then 001–199 for a 居委会 and
200–399 for a 村委会. A 街道 has mostly 社区 (居委会) and a few villages; a 镇
has one or two 社区 at its seat and 10–20 villages. Village populations
partition the town's resident population.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from standins.common.determinism import rng
from standins.weather.geography import TOWNS, Town

_FIRST = "东西南北前后大小上下新老中高黄白石杨李王张刘何马孙"
_SECOND = "家台堡屯岭沟河庄岗甸峪山塘岔营湾"
_COMMUNITY = ("和平", "新华", "站前", "向阳", "繁荣", "园林", "建设", "胜利", "文化", "东升", "永安", "幸福")


@dataclass(frozen=True)
class Village:
    code12: str
    name: str
    town: Town
    population: int

    @property
    def is_community(self) -> bool:
        return int(self.code12[9:]) < 200


@cache
def villages(seed: int) -> tuple[Village, ...]:
    from standins.bureau.generate import DIVISION_FACTS  # the towns' populations

    out: list[Village] = []
    for town in TOWNS:
        r = rng(seed, "villages", town.code12)
        urban = town.name.endswith("街道")
        communities = r.randrange(6, 12) if urban else r.randrange(1, 3)
        rural = r.randrange(0, 4) if urban else r.randrange(10, 21)
        weights = [r.uniform(2.0, 4.0) for _ in range(communities)] + [r.uniform(0.6, 1.4) for _ in range(rural)]
        total = DIVISION_FACTS[town.name][0]
        shares = [round(total * w / sum(weights)) for w in weights]
        seen: set[str] = set()
        for i in range(communities + rural):
            if i < communities:
                code = f"{town.code12[:9]}{i + 1:03d}"
                name = f"{_COMMUNITY[i % len(_COMMUNITY)]}社区" + (
                    "" if i < len(_COMMUNITY) else f"{i // len(_COMMUNITY) + 1}"
                )
            else:
                code = f"{town.code12[:9]}{200 + i - communities + 1:03d}"
                name = ""
                while not name or name in seen:
                    name = r.choice(_FIRST) + r.choice(_SECOND) + "村"
            seen.add(name)
            out.append(Village(code, name, town, shares[i]))
    return tuple(out)
