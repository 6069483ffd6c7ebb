"""JJXX 110 接警信息: a day of emergency-call alarms in 海城市.

Alarm ``i`` of a day depends only on (seed, day, i), so a larger scale adds
alarms without reshuffling the others; ``version`` > 0 is a re-sent file: the
same alarms with some outcomes corrected, a few withdrawn and late ones added.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from standins.common.determinism import rng, unit
from standins.common.timefmt import CST
from standins.police import people
from standins.police.places import TOWNS, Town, mine_site, river_place, road_place, street_address
from standins.police.rows import Row, coordinate_cells, fmt_time

HEADER = (
    "接警编号",
    "接警时间",
    "报警方式",
    "报警人姓名",
    "报警人联系电话",
    "报警人证件号码",
    "事发地址",
    "所属辖区代码",
    "经度",
    "纬度",
    "警情类别代码",
    "警情类别名称",
    "简要警情",
    "处警单位",
    "派警时间",
    "到场时间",
    "处置结果",
    "反馈时间",
)
ALARMS_AT_SCALE_1 = 400


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    # Share of a day's alarms (late autumn: heating season fires and gas, icy roads).
    weight: float

    @property
    def emergency(self) -> bool:
        return self.code[:2] in ("03", "04", "07") or self.code in ("0503", "0505")


CATEGORIES: tuple[Category, ...] = (
    Category("0101", "盗窃", 6.0),
    Category("0102", "诈骗", 5.0),
    Category("0103", "抢劫抢夺", 0.5),
    Category("0104", "故意伤害", 1.5),
    Category("0201", "殴打他人", 4.0),
    Category("0202", "寻衅滋事", 2.0),
    Category("0203", "赌博", 1.0),
    Category("0204", "噪声扰民", 3.0),
    Category("0301", "一般交通事故", 12.0),
    Category("0302", "涉危化品车辆交通事故", 0.4),
    Category("0303", "多车连环交通事故", 0.8),
    Category("0401", "建筑火灾", 1.5),
    Category("0402", "车辆火灾", 0.8),
    Category("0403", "森林草原火灾", 0.6),
    Category("0404", "其他火灾", 1.2),
    Category("0501", "走失寻人", 2.0),
    Category("0502", "开锁求助", 4.0),
    Category("0503", "溺水", 0.2),
    Category("0504", "疾病求助", 3.0),
    Category("0505", "被困", 1.0),
    Category("0601", "家庭纠纷", 6.0),
    Category("0602", "邻里纠纷", 5.0),
    Category("0603", "经济纠纷", 4.0),
    Category("0604", "交通纠纷", 2.0),
    Category("0701", "危化品泄漏", 0.2),
    Category("0702", "燃气泄漏", 0.8),
    Category("0703", "爆炸", 0.1),
    Category("0704", "建筑坍塌", 0.2),
    Category("0705", "山体滑坡/崩塌", 0.1),
    Category("0706", "洪涝", 0.1),
    Category("0707", "触电", 0.2),
    Category("0799", "其他灾害事故", 0.2),
    Category("9901", "咨询", 12.0),
    Category("9902", "误报", 6.0),
    Category("9999", "其他", 4.0),
)
_WEIGHTS = tuple(c.weight for c in CATEGORIES)
# Calls by hour of day (few at night, peaks late morning and early evening).
_HOURLY = (2, 1.5, 1, 1, 1, 1.5, 3, 5, 6, 7, 7, 7, 6, 6, 6, 7, 7, 8, 8, 7, 6, 5, 4, 3)
CHANNELS = (("电话", 82), ("现场", 8), ("网络", 6), ("短信", 4))


def alarm_count(seed: int, scale: float, day: date) -> int:
    return max(5, round(ALARMS_AT_SCALE_1 * scale * (0.85 + 0.3 * unit(seed, "police-alarms-day", day.isoformat()))))


def _where(r: random.Random, cat: Category) -> tuple[Town, str, str]:
    """(town, address, summary) fitting the category."""
    group = cat.code[:2]
    if group == "03":
        _, town, place = road_place(r)
        text = {
            "0301": r.choice(
                (
                    f"{place}两车追尾，无人员受伤",
                    f'{place}小客车撞护栏,报警人称"车头变形"',
                    f"{place}发生刮擦事故，双方争执",
                )
            ),
            "0302": f"{place}危化品运输车与小客车相撞，罐体未见泄漏，请求消防到场",
            "0303": f"{place}路面结冰，多车连环追尾，有人员受伤",
        }[cat.code]
        return town, place, text
    if cat.code == "0503":
        town, place = river_place(r)
        return town, place, f"{place}有人落水,请求救援"
    if cat.code in ("0705",):
        town, place = mine_site(r)
        return town, place + "矿区", "矿区边坡发生崩塌，无人员被困"
    if cat.code in ("0701", "0703"):
        town, place = mine_site(r)
        text = {"0701": "厂区氨气泄漏，有刺鼻气味", "0703": "厂房内发生爆炸，有浓烟"}[cat.code]
        return town, place + "工业园区", text
    town = r.choice(TOWNS)
    address = street_address(r, town)
    text = {
        "0401": "居民楼起火，浓烟较大\r\n楼内有人员被困",
        "0402": "车辆行驶中自燃",
        "0403": "山林起火，火势向山上蔓延",
        "0404": "垃圾堆起火",
        "0505": r.choice(("电梯困人，共2人", "有人在山上迷路被困")),
        "0702": '居民家中燃气泄漏，报警人称"有很大煤气味"',
        "0704": "彩钢房因积雪坍塌",
        "0706": "积水进屋，请求帮助",
        "0707": "有人触电倒地",
        "0799": "广告牌被风刮落",
    }.get(cat.code, f"报警人称{cat.name}，请求处理")
    return town, address, text


def _unit(cat: Category, town_short: str) -> str:
    if cat.code[:2] == "03":
        return "海城市公安局交通警察大队"
    if cat.emergency:
        return "海城市消防救援大队"
    return f"海城市公安局{town_short}派出所"


_OUTCOMES = {
    "03": ("已处置，双方协商解决", "已移交事故处理中队", "已处置，伤者送医"),
    "04": ("明火已扑灭，无人员伤亡", "已扑灭，过火面积约20平方米"),
    "05": ("已救起，送医", "已解救", "已找到，交家属"),
    "07": ("已处置，隐患已排除", "已疏散群众，交相关部门处置"),
}
_OTHER_OUTCOMES = ("已调解", "已受案", "已告知", "不属公安管辖，已告知报警人")


def _alarm(seed: int, day: date, i: int, version_tag: str) -> tuple[datetime, Row]:
    r = rng(seed, "police-alarm", day.isoformat(), version_tag, i)
    cat = r.choices(CATEGORIES, weights=_WEIGHTS)[0]
    hour = r.choices(range(24), weights=_HOURLY)[0]
    received = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour, seconds=r.randrange(3600))
    town, address, summary = _where(r, cat)
    channel = r.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
    name = people.person_name(r) if r.random() < 0.88 else ""
    phone = people.phone(r) if channel != "现场" or r.random() < 0.5 else ""
    citizen = people.citizen_id(r, day) if r.random() < 0.3 else ""
    if phone and r.random() < 0.04:
        summary += f"，回拨电话{phone}"  # call-takers do write numbers into the free text
    lon, lat = coordinate_cells(r, town)
    dispatched = received + timedelta(seconds=r.randrange(60, 360))
    arrived = dispatched + timedelta(seconds=r.randrange(240, 2400))
    feedback = arrived + timedelta(seconds=r.randrange(1200, 14400))
    outcomes = _OUTCOMES.get(cat.code[:2], _OTHER_OUTCOMES) if cat.emergency else _OTHER_OUTCOMES
    cells = {
        "接警编号": "",
        "接警时间": fmt_time(r, received),
        "报警方式": channel,
        "报警人姓名": name,
        "报警人联系电话": phone,
        "报警人证件号码": citizen,
        "事发地址": address,
        "所属辖区代码": town.code12,
        "经度": lon,
        "纬度": lat,
        "警情类别代码": cat.code,
        "警情类别名称": cat.name,
        "简要警情": summary,
        "处警单位": _unit(cat, town.short_name),
        "派警时间": fmt_time(r, dispatched),
        "到场时间": fmt_time(r, arrived) if r.random() < 0.92 else "",
        "处置结果": r.choice(outcomes) + (f"，已核实报警人身份{citizen}" if citizen and r.random() < 0.05 else ""),
        "反馈时间": fmt_time(r, feedback) if r.random() < 0.9 else "",
    }
    # An export holds what had happened when it was written: the day's last alarms, exported just after
    # midnight, have no arrival or feedback yet (their cells are drawn anyway, so the rest stays the same).
    written = datetime.now(CST).replace(tzinfo=None)
    for column, moment in (("到场时间", arrived), ("反馈时间", feedback)):
        if moment > written:
            cells[column] = ""
    row = Row(cells, "", [v for v in (name, phone, citizen) if v], cat.emergency, cat.code, town.code12)
    return received, row


def alarm_id(day: date, seq: int) -> str:
    """20 characters: J + 210381 + YYYYMMDD + 5-digit sequence."""
    return f"J{people.REGION}{day:%Y%m%d}{seq:05d}"


def day_alarms(seed: int, scale: float, day: date, version: int = 0) -> list[Row]:
    """The day's alarms in the order of their numbers."""
    n = alarm_count(seed, scale, day)
    base = sorted((_alarm(seed, day, i, "base") for i in range(n)), key=lambda tr: tr[0])
    rows: list[Row] = []
    for seq, (_, row) in enumerate(base, start=1):
        if version and unit(seed, "police-withdrawn", day.isoformat(), version, seq) < 0.01:
            continue  # withdrawn in the re-sent file (a duplicate registration)
        row.key = row.cells["接警编号"] = alarm_id(day, seq)
        if version and unit(seed, "police-corrected", day.isoformat(), version, seq) < 0.05:
            row.cells["处置结果"] += "（已更正）"
        rows.append(row)
    # Each re-sending adds the alarms registered late since the previous one.
    late = round(n * 0.04)
    for k in range(1, version + 1):
        for j in range(late):
            _, row = _alarm(seed, day, j, f"late-{k}")
            row.key = row.cells["接警编号"] = alarm_id(day, n + (k - 1) * late + j + 1)
            rows.append(row)
    return rows
