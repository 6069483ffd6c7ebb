"""地质灾害隐患点 geological-hazard sites in the eastern mountain towns (千山 foothills).

Grades follow DZ/T 0286-2015: 险情等级 by people threatened (特大型 ≥ 1000,
大型 500–999, 中型 100–499, 小型 < 100) and 规模等级 by volume with thresholds
per type (滑坡 10/100/1000 万m³, 崩塌 1/10/100 万m³, 泥石流 2/20/50 万m³; the
other types use the 崩塌 ones). Site ``i`` depends only on (seed, i).
The two digits of the type in 隐患点编号 (yhdbh) are those of the 11D kind in
ref_event_categories (GB/T 35561-2017: 01 滑坡, 02 泥石流, 03 崩塌, 04 地面塌陷,
05 地裂缝, 06 地面沉降).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from standins.common.determinism import rng
from standins.natural_resources.people import person_name
from standins.natural_resources.shapes import point
from standins.weather.geography import TOWNS

SITES_AT_SCALE_1 = 160
TOWN_WEIGHTS = {"析木镇": 20, "接文镇": 18, "岔沟镇": 18, "孤山镇": 16, "马风镇": 10, "英落镇": 10, "八里镇": 8}
TYPES = (
    ("崩塌", "03", 38),
    ("滑坡", "01", 30),
    ("泥石流", "02", 17),
    ("地面塌陷", "04", 10),
    ("地裂缝", "05", 4),
    ("地面沉降", "06", 1),
)
# Median volume (m³) and the 小/中/大/特大 thresholds (m³) per type.
_VOLUME = {
    "滑坡": (30_000, (100_000, 1_000_000, 10_000_000)),
    "崩塌": (3_000, (10_000, 100_000, 1_000_000)),
    "泥石流": (15_000, (20_000, 200_000, 500_000)),
}
_GRADES = ("小型", "中型", "大型", "特大型")
_VILLAGES = (
    "羊角峪",
    "黄岭",
    "东沟",
    "西沟",
    "南岭",
    "北山",
    "石门",
    "三家堡",
    "龙凤峪",
    "大岭",
    "金家",
    "前营",
    "后营",
    "孤家子",
    "红旗",
    "柳树",
    "碾盘沟",
    "二道河",
    "杨家甸",
    "上石桥",
    "下石桥",
    "王家堡",
)
_SPOTS = ("后山", "北沟", "南坡", "东山", "西岭", "沟口", "道口", "采坑边")


def danger_grade(people: int) -> str:
    """险情等级 by people threatened (the contract's thresholds)."""
    if people >= 1000:
        return "特大型"
    if people >= 500:
        return "大型"
    if people >= 100:
        return "中型"
    return "小型"


def volume_grade(kind: str, volume: float) -> str:
    thresholds = _VOLUME.get(kind, _VOLUME["崩塌"])[1]
    return _GRADES[sum(volume >= t for t in thresholds)]


def _pick(r: Any, weighted: list[tuple[Any, float]]) -> Any:
    return r.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def hazard_site(seed: int, index: int, today: date) -> dict[str, Any]:
    """Properties and geometry of site ``index`` (a feature without its id)."""
    r = rng(seed, "hazard", index)
    town = _pick(r, [(t, TOWN_WEIGHTS[t.name]) for t in TOWNS if t.name in TOWN_WEIGHTS])
    kind, kind_code, _ = _pick(r, [(t, t[2]) for t in TYPES])
    people = min(2400, max(3, round(r.lognormvariate(3.2, 1.1))))
    median = _VOLUME.get(kind, (2_000, ()))[0]
    volume = round(median * r.lognormvariate(0, 1.2), -1) or 10.0
    village = r.choice(_VILLAGES) + "村"
    measure = _pick(r, [("监测", 70), ("搬迁避让", 12), ("工程治理", 18)])
    retired = r.random() < 0.04
    # 汛前/汛中/汛后 inspections: April–May, July, October of this or last year.
    checked = _inspection_date(r, today)
    lon = town.lon + 0.012 + r.gauss(0, 0.035)
    lat = town.lat + r.gauss(0, 0.028)
    return {
        "geometry": point(lon, lat),
        "properties": {
            "yhdbh": f"{town.code12[:9]}{kind_code}{index + 1:03d}",
            "mc": f"{town.name}{village}{r.choice(_SPOTS)}{kind}",
            "lx": kind,
            "gm": volume,
            "gmdj": volume_grade(kind, volume),
            "xqdj": danger_grade(people),
            "wxrs": people,
            "wxhs": max(1, round(people / r.uniform(2.6, 3.4))),
            "wxcc": round(people * r.uniform(1.5, 6.0), 1),
            "xzqh": town.code12,
            "cun": village,
            "fzcs": "已销号" if retired else measure,
            "jczrr": person_name(seed, "jczrr", index),
            "zt": "核销" if retired else "在册",
            "gxsj": checked.isoformat(),
        },
    }


def _inspection_date(r: Any, today: date) -> date:
    candidates = []
    for year in (today.year - 1, today.year):
        candidates += [date(year, 4, 20), date(year, 5, 15), date(year, 7, 10), date(year, 10, 12)]
    past = [d for d in candidates if d <= today] or [today - timedelta(days=30)]
    return min(today, r.choice(past[-4:]) + timedelta(days=r.randrange(0, 12)))


def site_count(scale: float) -> int:
    return max(len(TOWN_WEIGHTS), round(SITES_AT_SCALE_1 * scale))
