"""ZDDW 重点管控单位: units licensed for civil explosives or toxic / precursor chemicals.

The list is the same every day (the export sends it whole): magnesite mines
blasting under a 民用爆炸物品使用 licence, explosive magazines, electroplating
and chemical works buying highly toxic or explosive-precursor chemicals.
Unit ``i`` depends only on (seed, i); ``version`` > 0 (a re-sent list) changes
some principals' phone numbers.
"""

from __future__ import annotations

from datetime import date

from standins.common.determinism import rng, unit
from standins.police import people
from standins.police.places import MINE_TOWNS, TOWNS, village
from standins.police.rows import Row

HEADER = (
    "单位名称",
    "统一社会信用代码",
    "许可类型",
    "许可证号",
    "有效期至",
    "地址",
    "所属辖区代码",
    "负责人",
    "负责人联系电话",
)
UNITS_AT_SCALE_1 = 36
_BRANDS = (
    "华宇",
    "金鼎",
    "宏运",
    "东方",
    "鑫达",
    "恒信",
    "兴隆",
    "永丰",
    "北方",
    "辽海",
    "鑫源",
    "中兴",
    "盛华",
    "天成",
    "瑞丰",
    "富达",
)
_KINDS = (
    # (licence kind, share, name pattern, licence prefix)
    ("民用爆炸物品使用", 50, "海城市{brand}矿业有限公司", "辽公爆使字"),
    ("民用爆炸物品储存", 10, "海城市{brand}民爆器材有限公司", "辽公爆储字"),
    ("剧毒化学品购买", 15, "海城市{brand}电镀有限公司", "辽公剧购字"),
    ("易制爆危险化学品", 25, "海城市{brand}精细化工有限公司", "辽公易爆备字"),
)


def unit_count(scale: float) -> int:
    return max(5, round(UNITS_AT_SCALE_1 * scale))


def _unit(seed: int, i: int, version: int) -> Row:
    r = rng(seed, "police-unit", i)
    kind, _, pattern, prefix = r.choices(_KINDS, weights=[k[1] for k in _KINDS])[0]
    towns = MINE_TOWNS if kind == "民用爆炸物品使用" else TOWNS
    town = r.choice(towns)
    brand = _BRANDS[i % len(_BRANDS)] + ("" if i < len(_BRANDS) else str(i // len(_BRANDS) + 1))
    year = r.randrange(2023, 2027)
    valid = date(year + 3, r.randrange(1, 13), 28)
    principal, phone = people.person_name(r), people.mobile(r)
    if version and unit(seed, "police-unit-phone", i, version) < 0.2:
        phone = people.mobile(rng(seed, "police-unit-phone-new", i, version))
    cells = {
        "单位名称": pattern.format(brand=brand),
        "统一社会信用代码": people.credit_code(r),
        "许可类型": kind,
        "许可证号": f"{prefix}〔{year}〕{r.randrange(1, 10000):04d}号",
        "有效期至": valid.strftime("%Y%m%d") if r.random() < 0.3 else valid.isoformat(),
        "地址": f"海城市{town.name}{village(r)}",
        "所属辖区代码": town.code12,
        "负责人": principal,
        "负责人联系电话": phone,
    }
    return Row(cells, cells["许可证号"], [principal, phone], False, "", town.code12)


def day_units(seed: int, scale: float, day: date, version: int = 0) -> list[Row]:
    """The full list as exported on ``day`` (the same units every day)."""
    return [_unit(seed, i, version) for i in range(unit_count(scale))]
