"""The 26 town-level divisions of 海城市 and where their stations stand.

Codes and names are copied from ``/work/shared/reference/haicheng_divisions_2022.csv``
(NBS 2022) so the package is self-contained; a test checks they still agree.
Centroids and typical heights are approximate: the east and south-east of the
county are the 千山 foothills, the west is the 辽河 plain near sea level.
"""

from __future__ import annotations

from dataclasses import dataclass

REGION_CODE = "210381"


@dataclass(frozen=True)
class Town:
    code12: str
    name: str
    lon: float
    lat: float
    altitude_m: float

    @property
    def short_name(self) -> str:
        for suffix in ("街道", "镇"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name


TOWNS: tuple[Town, ...] = (
    Town("210381001000", "海州街道", 122.752, 40.856, 24.0),
    Town("210381002000", "兴海街道", 122.728, 40.872, 21.0),
    Town("210381003000", "响堂街道", 122.792, 40.846, 42.0),
    Town("210381004000", "东四街道", 122.774, 40.893, 30.0),
    Town("210381006000", "东四方台街道", 122.703, 40.902, 17.0),
    Town("210381101000", "孤山镇", 122.978, 40.628, 185.0),
    Town("210381102000", "岔沟镇", 123.102, 40.583, 262.0),
    Town("210381103000", "接文镇", 123.081, 40.718, 228.0),
    Town("210381104000", "析木镇", 122.958, 40.771, 152.0),
    Town("210381105000", "马风镇", 122.921, 40.902, 118.0),
    Town("210381107000", "牌楼镇", 122.861, 40.722, 108.0),
    Town("210381108000", "八里镇", 122.702, 40.781, 31.0),
    Town("210381109000", "毛祁镇", 122.884, 40.978, 79.0),
    Town("210381110000", "英落镇", 122.832, 40.631, 121.0),
    Town("210381111000", "感王镇", 122.553, 40.742, 9.0),
    Town("210381112000", "西柳镇", 122.583, 40.962, 12.0),
    Town("210381113000", "中小镇", 122.631, 40.903, 14.0),
    Town("210381114000", "王石镇", 122.662, 40.682, 38.0),
    Town("210381115000", "南台镇", 122.802, 41.021, 31.0),
    Town("210381118000", "腾鳌镇", 122.851, 41.068, 36.0),
    Town("210381121000", "耿庄镇", 122.622, 41.041, 15.0),
    Town("210381123000", "牛庄镇", 122.482, 40.931, 6.0),
    Town("210381124000", "西四镇", 122.421, 40.851, 5.0),
    Town("210381125000", "望台镇", 122.553, 41.052, 10.0),
    Town("210381126000", "温香镇", 122.452, 41.002, 7.0),
    Town("210381127000", "高坨镇", 122.382, 40.921, 5.0),
)

# The county seat hosts the national basic station.
COUNTY_SEAT = TOWNS[0]
