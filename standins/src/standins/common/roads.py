"""The roads of 海城市, one table for every stand-in that names a road.

The police accident places (``standins.police.places``), the transport bureau's
road events, bridges and waybills (``standins.transport.geography``) and the
weather warnings' advice all take a road's code, name, towns and kilometre
posts from here, so the same road runs through the same towns at the same
kilometre posts in every stand-in.

What is real and what is invented:

- **G15 沈海高速** (沈阳–海口, national expressway 15) is real and passes
  海城: its 沈阳–大连 section is the old 沈大高速 (opened 1990, renamed part of
  G15 in 2010), with the 腾鳌, 海城 and 西柳 interchanges. **G1 京哈高速
  (北京–哈尔滨) does not pass 海城** (it runs 锦州–盘锦–沈阳, west of the
  county), so no stand-in uses ``G1``.
- **G16 丹锡高速** (丹东–锡林浩特) is real and passes 海城: its 丹东–海城
  section (丹海高速) comes in from 岫岩 in the east and its 海城–盘锦 section
  (盘海高速) leaves to the west, meeting G15 at 海城.
- **G202 黑大线** (黑河–大连 national road) is real and runs 沈阳–鞍山–海城–大连
  beside the expressway.
- **S321, S322, X052, X054** are plausible provincial and county road numbers,
  invented.
- The towns each road passes (in order) follow the county's geography
  roughly; the kilometre posts are invented but plausible (G15's posts count
  from 沈阳, G16's from 丹东, G202's from 黑河). None of it is surveyed: good
  enough for maps and joins by division code.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ROADS", "ROAD_BY_CODE", "RoadLine"]


@dataclass(frozen=True)
class RoadLine:
    code: str
    # 中文名 as the road is called: 沈海高速, 黑大线, 省道321线.
    name: str
    english_name: str
    # As written in police addresses: G15沈海高速, S321线.
    address_name: str
    # Towns (full names, as in the division table) in the order of increasing kilometre posts.
    towns: tuple[str, ...]
    km_from: float
    km_to: float
    # Whether the road (its number and course through 海城) is real; see the module note.
    is_real: bool

    @property
    def km(self) -> tuple[int, int]:
        return int(self.km_from), int(self.km_to)

    def position(self, km: float) -> tuple[int, float]:
        """Where kilometre ``km`` lies: the leg (index of the town it starts at) and the share of it run."""
        share = min(max((km - self.km_from) / (self.km_to - self.km_from), 0.0), 1.0)
        at = share * (len(self.towns) - 1)
        leg = min(int(at), len(self.towns) - 2)
        return leg, at - leg

    def town_at(self, km: float) -> str:
        """The town (full name) nearest to kilometre ``km`` along the road."""
        leg, frac = self.position(km)
        return self.towns[leg] if frac < 0.5 else self.towns[leg + 1]


ROADS: tuple[RoadLine, ...] = (
    RoadLine(
        "G15",
        "沈海高速",
        "Shenyang–Haikou Expressway (old Shenyang–Dalian section)",
        "G15沈海高速",
        ("腾鳌镇", "南台镇", "东四方台街道", "兴海街道", "八里镇", "王石镇"),
        96.0,
        146.0,
        is_real=True,
    ),
    RoadLine(
        "G16",
        "丹锡高速",
        "Dandong–Xilinhot Expressway",
        "G16丹锡高速",
        ("析木镇", "牌楼镇", "八里镇", "感王镇", "西四镇"),
        180.0,
        230.0,
        is_real=True,
    ),
    RoadLine(
        "G202",
        "黑大线",
        "National Road 202 (Heihe–Dalian)",
        "G202黑大线",
        ("腾鳌镇", "南台镇", "东四街道", "海州街道", "八里镇", "王石镇"),
        1408.0,
        1452.0,
        is_real=True,
    ),
    RoadLine(
        "S321",
        "省道321线",
        "Provincial Road 321",
        "S321线",
        ("海州街道", "响堂街道", "析木镇", "孤山镇", "岔沟镇"),
        0.0,
        62.0,
        is_real=False,
    ),
    RoadLine(
        "S322",
        "省道322线",
        "Provincial Road 322",
        "S322线",
        ("腾鳌镇", "南台镇", "毛祁镇"),
        10.0,
        60.0,
        is_real=False,
    ),
    RoadLine(
        "X052",
        "县道052线",
        "County Road 052",
        "X052线",
        ("海州街道", "牌楼镇", "英落镇"),
        0.0,
        28.0,
        is_real=False,
    ),
    RoadLine(
        "X054",
        "县道054线",
        "County Road 054",
        "X054线",
        ("英落镇", "牌楼镇"),
        0.0,
        22.0,
        is_real=False,
    ),
)
ROAD_BY_CODE: dict[str, RoadLine] = {r.code: r for r in ROADS}
