"""应急避难场所 emergency shelters in the urban sub-districts (GB 21734-2008 classes).

Ⅰ类 (≥ 30 days) are the large parks and the stadium, drawn as polygons; Ⅱ类
(10–30 days) squares and school grounds, polygons too; Ⅲ类 (< 10 days) small
squares, drawn as points. Capacity is the effective area over the area per
person (Ⅰ 3 m², Ⅱ 2 m², Ⅲ 1.5 m²). Shelter ``i`` depends only on (seed, i).
"""

from __future__ import annotations

from typing import Any

from standins.common.determinism import rng
from standins.natural_resources.shapes import point, polygon, rectangle
from standins.weather.geography import TOWNS

SHELTERS_AT_SCALE_1 = 36
URBAN = tuple(t for t in TOWNS if t.name.endswith("街道"))
# (class, share, area range m², m² per person, polygon?)
CLASSES = (
    ("Ⅰ类", 10, (20_000, 60_000), 3.0, True),
    ("Ⅱ类", 30, (5_000, 20_000), 2.0, True),
    ("Ⅲ类", 60, (1_500, 5_000), 1.5, False),
)
_SITES = {
    "Ⅰ类": ("人民公园", "体育场", "森林公园", "海城河滨公园", "全民健身中心"),
    "Ⅱ类": ("文化广场", "第一中学操场", "实验小学操场", "职业教育中心操场", "站前广场", "会展中心广场"),
    "Ⅲ类": ("社区广场", "小游园", "街心公园", "中心小学操场", "老年活动中心广场", "便民广场", "社区活动中心"),
}
_ROADS = (
    "海城大街",
    "人民路",
    "永安路",
    "胜利路",
    "解放路",
    "环城路",
    "站前街",
    "中街",
    "铁西路",
    "新华路",
    "八里河路",
)


def shelter(seed: int, index: int) -> dict[str, Any]:
    r = rng(seed, "shelter", index)
    town = URBAN[index % len(URBAN)] if index < len(URBAN) else r.choice(URBAN)
    cls, _, (low, high), per_person, as_polygon = r.choices(CLASSES, weights=[c[1] for c in CLASSES])[0]
    area = round(r.uniform(low, high), -1)
    lon = town.lon + r.gauss(0, 0.008)
    lat = town.lat + r.gauss(0, 0.006)
    geometry = polygon(rectangle(lon, lat, area * 1.15, r.uniform(0.6, 1.8))) if as_polygon else point(lon, lat)
    return {
        "geometry": geometry,
        "properties": {
            "bncsbh": f"210381BN{index + 1:03d}",
            "mc": f"{town.name}{r.choice(_SITES[cls])}",
            "lb": cls,
            "mj": area,
            "rnrs": int(area / per_person),
            "xzqh": town.code12,
            "dz": f"海城市{town.name}{r.choice(_ROADS)}{r.randrange(1, 300)}号",
        },
    }


def shelter_count(scale: float) -> int:
    return max(len(URBAN), round(SHELTERS_AT_SCALE_1 * scale))
