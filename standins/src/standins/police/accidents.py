"""JTSG 交通事故: a day of road accidents on 海城市's roads (G15, G16, S321, X052 …).

Trucks with dangerous goods (magnesia, chemicals, LPG) are a few percent of
accidents; their plate is the one the platform may keep in clear.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from standins.common.determinism import rng, unit
from standins.police import people
from standins.police.places import TOWNS, road_place, street_address
from standins.police.rows import Row, coordinate_cells, fmt_time

HEADER = (
    "事故编号",
    "事故时间",
    "事故地点",
    "所属辖区代码",
    "经度",
    "纬度",
    "道路编号",
    "事故形态",
    "死亡人数",
    "受伤人数",
    "涉及危险货物车辆",
    "车牌号",
    "天气",
    "路面状况",
)
ACCIDENTS_AT_SCALE_1 = 12
_TYPES = (
    ("追尾碰撞", 30),
    ("侧面碰撞", 20),
    ("刮擦", 25),
    ("正面碰撞", 6),
    ("撞固定物", 8),
    ("翻车", 4),
    ("碾压", 2),
    ("坠车", 1),
    ("其他", 4),
)
_WEATHER = (("晴", 50), ("阴", 25), ("雪", 12), ("雾", 6), ("雨", 7))
_SURFACE = {"晴": "干燥", "阴": "干燥", "雪": "积雪", "雾": "潮湿", "雨": "潮湿"}


def accident_count(seed: int, scale: float, day: date) -> int:
    factor = 0.6 + 0.8 * unit(seed, "police-accidents-day", day.isoformat())
    return max(2, round(ACCIDENTS_AT_SCALE_1 * scale * factor))


def accident_id(day: date, seq: int) -> str:
    """SG + 210381 + YYYYMMDD + 4-digit sequence (20 characters)."""
    return f"SG{people.REGION}{day:%Y%m%d}{seq:04d}"


def _accident(seed: int, day: date, i: int, version: int) -> Row:
    r = rng(seed, "police-accident", day.isoformat(), i)
    if r.random() < 0.75:
        road, town, place = road_place(r)
        road_code = road.code
    else:  # town streets have no road number
        town = r.choice(TOWNS)
        place, road_code = street_address(r, town), ""
    moment = datetime.combine(day, datetime.min.time()) + timedelta(seconds=r.randrange(86400))
    weather = r.choices([w for w, _ in _WEATHER], weights=[n for _, n in _WEATHER])[0]
    surface = "结冰" if weather == "雪" and r.random() < 0.4 else _SURFACE[weather]
    hazmat = r.random() < 0.06
    plate = people.plate(r, truck=hazmat)
    deaths = 1 if r.random() < 0.03 else 0
    injured = r.choices((0, 1, 2, 3), weights=(60, 25, 10, 5))[0]
    if version and unit(seed, "police-accident-corrected", day.isoformat(), version, i) < 0.15:
        injured += 1  # the re-sent file counts a casualty reported late
    lon, lat = coordinate_cells(r, town)
    cells = {
        "事故编号": accident_id(day, i + 1),
        "事故时间": fmt_time(r, moment),
        "事故地点": place,
        "所属辖区代码": town.code12,
        "经度": lon,
        "纬度": lat,
        "道路编号": road_code,
        "事故形态": r.choices([t for t, _ in _TYPES], weights=[n for _, n in _TYPES])[0],
        "死亡人数": str(deaths),
        "受伤人数": str(injured),
        "涉及危险货物车辆": "是" if hazmat else "否",
        "车牌号": plate,
        "天气": weather,
        "路面状况": surface,
    }
    return Row(cells, cells["事故编号"], [] if hazmat else [plate], True, "", town.code12, plate if hazmat else None)


def day_accidents(seed: int, scale: float, day: date, version: int = 0) -> list[Row]:
    rows = [_accident(seed, day, i, version) for i in range(accident_count(seed, scale, day) + version)]
    return sorted(rows, key=lambda row: row.key)
