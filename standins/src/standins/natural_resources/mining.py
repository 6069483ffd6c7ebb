"""采矿权 mining licences: 海城 is China's main magnesite (菱镁矿) district, with talc (滑石).

Licences cluster around 八里镇, 牌楼镇, 析木镇 and 马风镇. Holders come from
:func:`sandbox.natural_resources.people.mining_company`, so one company may
hold several licences and the bureau's registers name the same companies.
Licence ``i`` depends only on (seed, i).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from standins.common.determinism import rng
from standins.natural_resources.people import mining_company
from standins.natural_resources.shapes import multipolygon, polygon, ring_around
from standins.weather.geography import TOWNS

LICENCES_AT_SCALE_1 = 110
TOWN_WEIGHTS = {
    "八里镇": 30,
    "牌楼镇": 22,
    "析木镇": 16,
    "马风镇": 14,
    "孤山镇": 6,
    "英落镇": 6,
    "接文镇": 3,
    "王石镇": 3,
}
# (mineral, code in the licence number, weight, share of open-pit mines)
MINERALS = (
    ("菱镁矿", "101", 55, 0.6),
    ("滑石", "102", 20, 0.3),
    ("建筑用石料", "201", 12, 1.0),
    ("白云岩", "103", 5, 0.8),
    ("铁矿", "001", 5, 0.4),
    ("方解石", "104", 3, 0.7),
)


def licence(seed: int, index: int, today: date, companies: int) -> dict[str, Any]:
    r = rng(seed, "licence", index)
    towns = [t for t in TOWNS if t.name in TOWN_WEIGHTS]
    town = r.choices(towns, weights=[TOWN_WEIGHTS[t.name] for t in towns])[0]
    mineral, code, _, open_pit = r.choices(MINERALS, weights=[m[2] for m in MINERALS])[0]
    holder, credit = mining_company(seed, r.randrange(companies))
    method = "露天" if r.random() < open_pit else "地下"
    start = date(r.randrange(2012, 2026), r.randrange(1, 13), r.randrange(1, 29))
    start = min(start, today - timedelta(days=30))
    years = r.randrange(3, 11) if method == "露天" else r.randrange(5, 21)
    end = start.replace(year=start.year + years) - timedelta(days=1)
    status = "注销" if r.random() < 0.05 else ("有效" if end >= today else "过期")
    lon = town.lon + 0.01 + r.gauss(0, 0.03)
    lat = town.lat + r.gauss(0, 0.025)
    radius = r.uniform(300, 1200)
    if r.random() < 0.15:
        second = ring_around(r, lon + radius * 2.2 / 84_000, lat + r.uniform(-0.004, 0.004), radius * 0.6, 6)
        geometry = multipolygon([ring_around(r, lon, lat, radius, r.randrange(6, 11)), second])
    else:
        geometry = polygon(ring_around(r, lon, lat, radius, r.randrange(6, 11)))
    short = town.name.removesuffix("镇")
    return {
        "geometry": geometry,
        "properties": {
            "xkzh": f"C2103002{start.year}{start.month:02d}{code}{index + 1:06d}",
            "ksmc": f"{holder}{short}{mineral}" + ("" if mineral.endswith("矿") else "矿"),
            "cqr": holder,
            "tyshxydm": credit,
            "kz": mineral,
            "kcfs": method,
            "yxqq": start.isoformat(),
            "yxqz": end.isoformat(),
            "xzqh": town.code12,
            "zt": status,
        },
    }


def licence_count(scale: float) -> int:
    return max(4, round(LICENCES_AT_SCALE_1 * scale))


def company_count(scale: float) -> int:
    """Fewer companies than licences: the larger ones hold several."""
    return max(2, round(licence_count(scale) * 0.6))
