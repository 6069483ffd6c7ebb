"""Rows of the registers for a seed, scale, version and day (clean values; the writer adds the mess).

Version 1 is the first upload; a later version is the same register some time
later: stock consumed and replenished, a team added, inspections closed, new
hazards found. Every value depends only on (seed, register, row, version) and
two days: ``base`` (the first version's day, which history is dated from, so
it stays put across versions) and ``today`` (this version's day, for changes).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from standins.bureau.catalogue import (
    AGREEMENT_DEPOTS,
    ALPHA_BANDS,
    CHEMICAL_KINDS,
    CHEMICAL_TOWNS,
    COMMUNITY_ITEMS,
    GB18218,
    HAZARD_TEXT,
    MATERIALS,
    R_LEVELS,
    TEAM_TYPES,
    TEAMS,
    TOWN_ITEMS,
    UNKNOWN_CHEMICAL,
)
from standins.bureau.reports import event_reports
from standins.bureau.villages import villages
from standins.common.determinism import rng, unit
from standins.natural_resources import mining
from standins.natural_resources.people import credit_code, firm_word, mining_company, mobile, person_name
from standins.weather.geography import TOWNS, Town

Row = dict[str, Any]
_BY_NAME = {t.name: t for t in TOWNS}
_ROADS = ("人民路", "永安路", "胜利路", "解放路", "环城路", "站前街", "中街", "新华路", "工业路", "建设街")
# 常住人口 and 面积(km²): plausible for 2022 (county total about 0.98 million people, 2 740 km²).
DIVISION_FACTS = {
    "海州街道": (98_000, 22),
    "兴海街道": (112_000, 35),
    "响堂街道": (61_000, 48),
    "东四街道": (54_000, 41),
    "东四方台街道": (38_000, 39),
    "孤山镇": (26_000, 212),
    "岔沟镇": (16_000, 198),
    "接文镇": (14_000, 186),
    "析木镇": (28_000, 205),
    "马风镇": (26_000, 163),
    "牌楼镇": (32_000, 138),
    "八里镇": (41_000, 112),
    "毛祁镇": (22_000, 96),
    "英落镇": (21_000, 146),
    "感王镇": (35_000, 118),
    "西柳镇": (68_000, 72),
    "中小镇": (26_000, 89),
    "王石镇": (27_000, 94),
    "南台镇": (37_000, 102),
    "腾鳌镇": (52_000, 95),
    "耿庄镇": (26_000, 88),
    "牛庄镇": (34_000, 104),
    "西四镇": (23_000, 91),
    "望台镇": (25_000, 83),
    "温香镇": (20_000, 78),
    "高坨镇": (18_000, 86),
}


def _near(r: Any, town: Town, spread: float = 0.01) -> tuple[float, float]:
    return round(town.lon + r.gauss(0, spread), 6), round(town.lat + r.gauss(0, spread * 0.75), 6)


def _address(r: Any, town: Town) -> str:
    return f"海城市{town.name}{r.choice(_ROADS)}{r.randrange(1, 400)}号"


def _changed(seed: int, what: str, key: object, version: int, share: float) -> bool:
    """Did this row change in some version up to ``version`` (each later version changes ~share)?"""
    return any(unit(seed, "change", what, key, v) < share for v in range(2, version + 1))


# -- 应急物资储备台账 --------------------------------------------------------------------------------------
def _depots(scale: float) -> list[tuple[str, str, str, Town, tuple[str, ...], float]]:
    """(code, name, level, town, item codes, size factor)."""
    seat = _BY_NAME["海州街道"]
    depots = [("CK21038100001", "海城市应急物资储备库", "市级", seat, tuple(m[0] for m in MATERIALS), 1.0)]
    for town in TOWNS:
        depots.append((f"CK{town.code12[:9]}01", f"{town.name}应急物资储备点", "镇级", town, TOWN_ITEMS, 0.05))
    urban = [t for t in TOWNS if t.name.endswith("街道")]
    for i in range(max(2, round(10 * scale))):
        town = urban[i % len(urban)]
        n = i // len(urban)
        depots.append(
            (f"CK{town.code12[:9]}{n + 11:02d}", f"{town.name}第{n + 1}社区储备点", "社区", town, COMMUNITY_ITEMS, 0.01)
        )
    for i, (name, items) in enumerate(AGREEMENT_DEPOTS):
        town = _BY_NAME[("兴海街道", "西柳镇", "东四方台街道", "腾鳌镇")[i]]
        depots.append((f"CK{town.code12[:9]}9{i + 1}", name, "协议代储", town, items, 0.3))
    return depots


def material_stock(seed: int, scale: float, version: int, base: date, today: date) -> list[Row]:
    catalogue = {m[0]: m for m in MATERIALS}
    rows = []
    for depot_code, depot_name, level, town, items, factor in _depots(scale):
        r = rng(seed, "depot", depot_code)
        lon, lat = _near(r, town)
        address = _address(r, town)
        for item in items:
            code, name, spec, unit_name, standard_city, shelf = catalogue[item]
            ri = rng(seed, "stock", depot_code, item)
            standard = max(1, round(standard_city * factor, -1 if standard_city * factor > 100 else 0))
            quantity = max(0, round(standard * ri.uniform(0.55, 1.2)))
            made = base - timedelta(days=ri.randrange(20, 3 * 365))
            updated = base - timedelta(days=ri.randrange(1, 90))
            if _changed(seed, "stock", (depot_code, item), version, 0.25):
                quantity = max(0, round(quantity * rng(seed, "stock-v", depot_code, item, version).uniform(0.6, 1.3)))
                updated = today - timedelta(days=rng(seed, "stock-d", depot_code, item, version).randrange(0, 5))
            expiry = made + timedelta(days=round(shelf * 365)) if shelf else None
            rows.append(
                {
                    "储备库编号": depot_code,
                    "储备库名称": depot_name,
                    "级别": level,
                    "所属辖区代码": town.code12,
                    "地址": address,
                    "经度": lon,
                    "纬度": lat,
                    "物资编码": code,
                    "物资名称": name,
                    "规格型号": spec,
                    "计量单位": unit_name,
                    "数量": quantity,
                    "储备标准数量": standard,
                    "生产日期": made,
                    "有效期至": expiry,
                    "更新日期": updated,
                }
            )
    return rows


# -- 救援队伍台账 ---------------------------------------------------------------------------------------
def rescue_teams(seed: int, scale: float, version: int, base: date, today: date) -> list[Row]:
    base = list(TEAMS)
    extra_towns = [t for t in TOWNS if not t.name.endswith("街道")]
    # A larger county (scale) has more village militia and volunteer teams; later versions add one each.
    for i in range(max(0, round(len(TEAMS) * (scale - 1))) + (version - 1)):
        town = extra_towns[rng(seed, "team-extra", i).randrange(len(extra_towns))]
        base.append(("社会应急力量", f"{{town}}第{i + 2}民兵应急排", town.name))
    rows = []
    for i, (kind, template, town_name) in enumerate(base):
        town = _BY_NAME[town_name]
        r = rng(seed, "team", i)
        code = f"DW210381{i + 1:03d}"
        equipment, (low, high) = TEAM_TYPES[kind]
        members = r.randrange(low, high + 1)
        leader_seed: tuple[object, ...] = ("team", code)
        if _changed(seed, "team", code, version, 0.15):
            members = max(low, members + rng(seed, "team-v", code, version).randrange(-5, 8))
            leader_seed = ("team", code, "v", version)  # a new leader, new phone
        lon, lat = _near(r, town, 0.008)
        rows.append(
            {
                "队伍编号": code,
                "队伍名称": template.format(town=town.name),
                "队伍类型": kind,
                "人数": members,
                "主要装备": equipment,
                "驻地": _address(r, town),
                "所属辖区代码": town.code12,
                "经度": lon,
                "纬度": lat,
                "负责人": person_name(seed, *leader_seed),
                "联系电话": mobile(seed, *leader_seed),
            }
        )
    return rows


# -- 危险化学品企业台账 -------------------------------------------------------------------------------------
def chemical_enterprises(seed: int, scale: float, version: int, base: date, today: date) -> list[Row]:
    """Declared 重大危险源等级 follow GB 18218-2018 (S, R, 表5/表6), except every tenth enterprise (i % 10 == 4)
    declares one level off (a deliberate disagreement for the platform's check to find)."""
    rows = []
    chlorine_example = False
    for i in range(max(5, round(55 * scale))):
        r = rng(seed, "chem", i)
        kind, suffix, items, _ = r.choices(CHEMICAL_KINDS, weights=[k[3] for k in CHEMICAL_KINDS])[0]
        town = _BY_NAME[r.choice(CHEMICAL_TOWNS)]
        quantities = [(name, round(r.uniform(low, high), 1)) for name, (low, high) in items]
        if quantities[0][0] == "液氯" and not chlorine_example:
            quantities[0], chlorine_example = ("液氯", 5.2), True  # 5.2 t of chlorine (Q 5 t): a major hazard
        if i % 13 == 7:  # a trade name no catalogue knows: the platform counts it, unidentified
            quantities.append((UNKNOWN_CHEMICAL, round(rng(seed, "chem-unknown", i).uniform(1, 5), 1)))
        level = gb18218_level(quantities, town.name)
        if i % 10 == 4:
            level = _MISDECLARED[level]
        inspected = base - timedelta(days=r.randrange(5, 200))
        officer: tuple[object, ...] = ("chem", i)
        if _changed(seed, "chem", i, version, 0.3):
            inspected = today - timedelta(days=rng(seed, "chem-v", i, version).randrange(0, 10))
        if _changed(seed, "chem-officer", i, version, 0.08):
            officer = ("chem", i, "v", version)
        lon, lat = _near(r, town, 0.012)
        rows.append(
            {
                "企业名称": f"海城市{firm_word(i + 200, seed)}{suffix}",
                "统一社会信用代码": credit_code(seed, "chem", i),
                "企业类型": kind,
                "重大危险源等级": level,
                "主要危险化学品": _chemicals_text(seed, i, quantities),
                "最大储存量(t)": round(sum(q for _, q in quantities), 1),
                "从业人员数": r.randrange(6, 60) if kind == "经营" else r.randrange(20, 600),
                "地址": _address(r, town),
                "所属辖区代码": town.code12,
                "经度": lon,
                "纬度": lat,
                "安全负责人": person_name(seed, *officer),
                "联系电话": mobile(seed, *officer),
                "最近检查日期": inspected,
            }
        )
    return rows


_MISDECLARED = {"一级": "二级", "二级": "三级", "三级": "四级", "四级": "无", "无": "四级"}


def gb18218_level(quantities: list[tuple[str, float]], town: str) -> str:
    """GB 18218-2018: S = Σ q/Q ≥ 1 is a major hazard; R = α Σ β q/Q graded by 表6. α (表5) from the people
    within 500 m, here the town's density (常住人口 / 面积) × π × 0.5² km², as the platform estimates it."""
    known = [(q, *factors) for name, q in quantities if name in GB18218 and (factors := GB18218[name][0])]
    if sum(q / big_q for q, big_q, _ in known) < 1:
        return "无"
    population, area = DIVISION_FACTS[town]
    persons = math.floor(population / area * math.pi * 0.5**2)
    alpha = next(a for least, a in ALPHA_BANDS if persons >= least)
    r_value = alpha * sum(beta * q / big_q for q, big_q, beta in known)
    return next(level for least, level in R_LEVELS if r_value >= least)


def _chemicals_text(seed: int, i: int, quantities: list[tuple[str, float]]) -> str:
    """主要危险化学品 as staff write it: `汽油 45.2t；柴油 60吨`, sometimes with CAS numbers; a few list the
    chemicals without quantities (i % 17 == 5)."""
    r = rng(seed, "chem-text", i)
    if i % 17 == 5 and len(quantities) > 1:
        return "、".join(name for name, _ in quantities)
    with_cas = r.random() < 0.15
    parts = [
        f"{name}({GB18218[name][1]}) {q:g}t"
        if with_cas and name in GB18218
        else f"{name} {q:g}{r.choice(('t', 't', '吨'))}"
        for name, q in quantities
    ]
    return "；".join(parts)


# -- 安全生产隐患排查台账 -----------------------------------------------------------------------------------
def safety_hazards(seed: int, scale: float, version: int, base: date, today: date) -> list[Row]:
    chemicals = chemical_enterprises(seed, scale, 1, base, base)
    companies = mining.company_count(scale)
    rows = []
    first = max(10, round(240 * scale))
    for i in range(first + 6 * (version - 1)):
        r = rng(seed, "hazard", i)
        if r.random() < 0.55:
            name, code = mining_company(seed, r.randrange(companies))
            texts = HAZARD_TEXT["mining"]
        else:
            chem = chemicals[r.randrange(len(chemicals))]
            name, code = chem["企业名称"], chem["统一社会信用代码"]
            texts = HAZARD_TEXT["chemical"]
        major = r.random() < 0.05
        # Six new findings per later version, dated as if versions came weekly (never after this version's day).
        added = 1 if i < first else 2 + (i - first) // 6
        newest = added > 1
        if newest:
            found = min(today, base + timedelta(days=7 * (added - 1))) - timedelta(days=r.randrange(0, 5))
        else:
            found = base - timedelta(days=r.randrange(3, 365))
        deadline = found + timedelta(days=r.randrange(30, 181) if major else r.randrange(7, 61))
        status, done = _progress(r, base, found, deadline)
        if not newest and status in ("未整改", "整改中") and _changed(seed, "hazard", i, version, 0.4):
            status, done = "已整改", today - timedelta(days=rng(seed, "hazard-v", i, version).randrange(0, 5))
        rows.append(
            {
                "隐患编号": f"YH{base.year}{i + 1:05d}",
                "企业名称": name,
                "统一社会信用代码": code,
                "隐患等级": "重大事故隐患" if major else "一般事故隐患",
                "隐患描述": r.choice(texts),
                "发现日期": found,
                "整改期限": deadline,
                "整改完成日期": done,
                "整改状态": status,
                "督办级别": "市级" if major else ("镇级" if r.random() < 0.3 else "无"),
            }
        )
    return rows


def _progress(r: Any, today: date, found: date, deadline: date) -> tuple[str, date | None]:
    """Mostly closed in time; some late, some still open past their deadline (overdue)."""
    closed = r.random() < (0.85 if deadline < today else 0.3)
    if closed:
        done = min(today, found + timedelta(days=r.randrange(1, max(2, (deadline - found).days + 15))))
        return ("已销号" if r.random() < 0.4 else "已整改"), done
    return ("整改中" if r.random() < 0.6 else "未整改"), None


# -- 辖区基础信息 -----------------------------------------------------------------------------------------
def division_facts(seed: int, scale: float, version: int, base: date, today: date) -> list[Row]:
    """The 26 towns, then the stand-in villages under them (villages.py: invented, not official)."""
    rows = []
    for town in TOWNS:
        population, area = DIVISION_FACTS[town.name]
        if version > 1:
            population = round(population * (1 + rng(seed, "pop", town.code12, version).uniform(-0.01, 0.005)))
        rows.append(
            {
                "所属辖区代码": town.code12,
                "名称": town.name,
                "常住人口": population,
                "面积(km²)": area,
                "中心经度": town.lon,
                "中心纬度": town.lat,
            }
        )
    for village in villages(seed):
        r = rng(seed, "village-centre", village.code12)
        lon, lat = _near(r, village.town, 0.03)
        rows.append(
            {
                "所属辖区代码": village.code12,
                "名称": village.name,
                "常住人口": village.population,
                "面积(km²)": None,
                "中心经度": lon,
                "中心纬度": lat,
            }
        )
    return rows


# -- 灾害信息员台账 ---------------------------------------------------------------------------------------
# Share of villages whose A post (the main informant) and B post (the deputy) are filled in version 1.
INFORMANT_FILLED = {"A岗": 0.94, "B岗": 0.86}


def disaster_informants(seed: int, scale: float, version: int, base: date, today: date) -> list[Row]:
    """One row per filled post (A岗 / B岗) of each stand-in village; later versions fill vacancies, replace people."""
    rows = []
    for village in villages(seed):
        for post, share in INFORMANT_FILLED.items():
            key = (village.code12, post)
            filled = unit(seed, "informant", *key) < share or _changed(seed, "informant-fill", key, version, 0.3)
            if not filled:
                continue
            r = rng(seed, "informant", *key)
            person: tuple[object, ...] = ("informant", *key)
            started = base - timedelta(days=r.randrange(30, 6 * 365))
            trained: date | None = started + timedelta(days=r.randrange(0, 400))
            if _changed(seed, "informant-person", key, version, 0.1):
                person = ("informant", *key, "v", version)
                started = today - timedelta(days=rng(seed, "informant-v", *key, version).randrange(0, 10))
                trained = None
            elif r.random() < 0.12 or (trained is not None and trained > base):
                trained = None  # not yet trained
            rows.append(
                {
                    "姓名": person_name(seed, *person),
                    "联系电话": mobile(seed, *person),
                    "所属村居代码": village.code12,
                    "村居名称": village.name,
                    "岗位": post,
                    "所属镇街代码": village.town.code12,
                    "上岗日期": started,
                    "培训日期": trained,
                }
            )
    return rows


GENERATORS = {
    "material_stock": material_stock,
    "rescue_teams": rescue_teams,
    "chemical_enterprises": chemical_enterprises,
    "safety_hazards": safety_hazards,
    "division_facts": division_facts,
    "disaster_informants": disaster_informants,
    "event_reports": event_reports,
}
