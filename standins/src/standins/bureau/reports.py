"""突发事件信息报告台账: the towns' reports (初报 / 续报 / 核报) of events of all four GB/T 35561 categories.

One row per report. An event gets an 初报 (mostly within its time limit, some
late), then 续报 (natural disasters: one each morning by 09:00 while the
disaster lasts, a day now and then skipped or sent late; other events: every
few hours to a day, now and then over 24 hours apart), then a 核报 some days
after the last 续报 (now and then late, now and then never sent). Figures grow
from report to report, the 核报 holding the final ones.

Every value depends only on (seed, event, report), ``base`` (history is dated
from it) and ``today``: a version holds the reports made before its day began,
and each later version adds two new events (as if versions came weekly).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from standins.common.determinism import rng
from standins.natural_resources.people import mobile, person_name
from standins.weather.geography import TOWNS, Town


@dataclass(frozen=True)
class Kind:
    code: str  # GB/T 35561-2017 (ref_event_categories)
    name: str  # the event name after the town's name
    months: tuple[int, ...]  # when such events happen in 海城市
    weight: float
    # (deaths, injured, affected, relocated, loss 万元) upper bounds of the final figures
    deaths: int
    injured: int
    affected: int
    relocated: int
    loss: float


_ALL_YEAR = tuple(range(1, 13))
_SUMMER = (6, 7, 8, 9)
_WINTER = (11, 12, 1, 2, 3)
KINDS: tuple[Kind, ...] = (
    # 自然灾害 11000
    Kind("11B03", "暴雨灾害", _SUMMER, 3.0, 1, 3, 6000, 1500, 900.0),
    Kind("11A51", "山洪灾害", (7, 8), 1.0, 2, 2, 2500, 800, 600.0),
    Kind("11D01", "山体滑坡", (6, 7, 8, 9), 1.0, 1, 2, 300, 120, 150.0),
    Kind("11B15", "冰雹灾害", (5, 6, 7, 8, 9), 1.0, 0, 2, 3000, 0, 400.0),
    Kind("11B04", "暴雪灾害", _WINTER, 2.0, 0, 4, 4000, 200, 300.0),
    Kind("11B05", "寒潮低温灾害", _WINTER, 1.0, 0, 2, 2000, 0, 200.0),
    Kind("11B06", "大风灾害", (3, 4, 5, 10, 11), 1.0, 0, 3, 1200, 50, 120.0),
    Kind("11G01", "森林火灾", (3, 4, 5, 10, 11), 1.0, 0, 1, 0, 60, 80.0),
    # 事故灾难 12000
    Kind("12B01", "道路交通事故", _ALL_YEAR, 3.0, 4, 12, 0, 0, 120.0),
    Kind("12C01", "火灾事故", _ALL_YEAR, 2.0, 3, 6, 0, 40, 300.0),
    Kind("12A01", "危险化学品泄漏事故", _ALL_YEAR, 1.0, 1, 8, 0, 300, 500.0),
    Kind("12C02", "燃气泄漏事故", _WINTER, 1.0, 1, 5, 0, 120, 60.0),
    # 公共卫生事件 13000
    Kind("13C01", "食物中毒事件", _ALL_YEAR, 2.0, 0, 40, 0, 0, 5.0),
    Kind("13A00", "聚集性传染病疫情", _ALL_YEAR, 1.0, 0, 30, 0, 0, 2.0),
    Kind("13D00", "动物疫情", _ALL_YEAR, 1.0, 0, 0, 0, 0, 60.0),
    # 社会安全事件 14000
    Kind("14D00", "群体性事件", _ALL_YEAR, 1.5, 0, 3, 0, 0, 0.0),
    Kind("14B00", "经济安全事件（集资兑付聚集）", _ALL_YEAR, 0.5, 0, 0, 0, 0, 0.0),
)
_INITIAL_LIMIT_MINUTES = {"11": 120, "12": 60, "13": 120, "14": 60}


def _town_unit(town: Town) -> str:
    return f"{town.name}{'办事处' if town.name.endswith('街道') else '人民政府'}"


def _kind_for(r: Any, month: int) -> Kind:
    kinds = [k for k in KINDS if month in k.months]
    return r.choices(kinds, weights=[k.weight for k in kinds])[0]


def _occurrence(r: Any, index: int, first: int, base: date, today: date) -> datetime:
    """The first events spread over the 150 days before ``base``; later ones a week apart after it."""
    if index < first:
        day = base - timedelta(days=r.randrange(3, 150))
    else:
        day = min(today, base + timedelta(days=7 * (1 + (index - first) // 2))) - timedelta(days=r.randrange(1, 4))
    return datetime.combine(day, time(r.randrange(0, 24), r.randrange(0, 60)))


def _report_times(r: Any, kind: Kind, occurred: datetime) -> list[tuple[str, datetime]]:
    """(report type, local time) of every report the town makes, in order (what is missing is simply absent)."""
    limit = _INITIAL_LIMIT_MINUTES[kind.code[:2]]
    late = r.random() < 0.12
    first = occurred + timedelta(minutes=r.randrange(limit + 5, limit * 3) if late else r.randrange(15, limit + 1))
    times = [("初报", first)]
    if kind.code.startswith("11"):
        days = r.randrange(0, 6)
        for day in range(1, days + 1):
            if 1 < day < days and r.random() < 0.25:
                continue  # a morning without its 续报 (the last morning is sent: it says the disaster is over)
            morning = datetime.combine(occurred.date() + timedelta(days=day), time(7, 0))
            sent = morning + timedelta(minutes=r.randrange(0, 121) if r.random() > 0.1 else r.randrange(130, 300))
            times.append(("续报", max(sent, first + timedelta(minutes=30))))
    else:
        last = first
        for _ in range(r.randrange(0, 3)):
            last += timedelta(hours=r.randrange(25, 40) if r.random() < 0.12 else r.randrange(3, 23))
            times.append(("续报", last))
    stable = times[-1][1]
    roll = r.random()
    if roll > 0.1:  # one in ten never sends its 核报
        days = r.uniform(5.2, 9) if roll > 0.88 else r.uniform(0.5, 4.8)
        times.append(("核报", stable + timedelta(minutes=round(days * 1440))))
    return times


def _figures(r: Any, kind: Kind, share: float) -> dict[str, Any]:
    """The figures a report gives: a growing ``share`` of the event's final ones."""
    final = {
        "死亡人数": r.choices((0, 1, r.randint(0, kind.deaths)), weights=(8, 1, 1))[0] if kind.deaths else 0,
        "失踪人数": (1 if r.random() < 0.1 else 0) if kind.code.startswith("11") else 0,
        "受伤人数": r.randint(0, kind.injured),
        "受灾人口": r.randint(kind.affected // 10, kind.affected) if kind.affected else 0,
        "紧急转移安置人数": r.randint(0, kind.relocated),
        "直接经济损失(万元)": round(r.uniform(0.05, 1) * kind.loss, 1),
    }
    return {
        k: (round(v * share, 1) if isinstance(v, float) else round(v * share) if k != "死亡人数" else v)
        for k, v in final.items()
    }


def event_reports(seed: int, scale: float, version: int, base: date, today: date) -> list[dict[str, Any]]:
    first = max(8, round(30 * scale))
    cutoff = datetime.combine(today, time(0))  # a version holds what was reported before its day began
    rows: list[dict[str, Any]] = []
    for i in range(first + 2 * (version - 1)):
        r = rng(seed, "event-report", i)
        town = TOWNS[r.randrange(len(TOWNS))]
        occurred = _occurrence(r, i, first, base, today)
        kind = _kind_for(r, occurred.month)
        event_code = f"SJ{base.year}{i + 1:04d}"
        times = _report_times(r, kind, occurred)
        reporter = (person_name(seed, "town-reporter", town.code12), mobile(seed, "town-reporter", town.code12))
        for seq, (report_type, reported) in enumerate(times, start=1):
            if reported >= cutoff:
                break
            share = 1.0 if report_type == "核报" else min(1.0, 0.4 + 0.2 * seq)
            rows.append(
                {
                    "报告编号": f"{event_code}-{seq:02d}",
                    "事件编号": event_code,
                    "事件名称": f"{town.name}{occurred.month}·{occurred.day}{kind.name}",
                    "事件类别代码": kind.code,
                    "事发时间": occurred,
                    "所属辖区代码": town.code12,
                    "报告类型": report_type,
                    "报告时间": reported,
                    **_figures(rng(seed, "event-figures", i), kind, share),
                    "报告单位": _town_unit(town),
                    "填报人": reporter[0],
                    "联系电话": reporter[1],
                }
            )
    return rows
