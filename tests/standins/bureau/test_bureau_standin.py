"""The bureau-register stand-in: workbooks as staff keep them, realistic for 海城市, versions and faults."""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import load_workbook
from standins.bureau import REGISTERS, WRONG_HEADER, populate, upload_version
from standins.bureau.generate import GENERATORS
from standins.natural_resources.people import is_valid_credit_code

UPLOADED = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
DAY = date(2026, 11, 28)
REFERENCE = Path("/work/shared/reference/haicheng_divisions_2022.csv")


def towns() -> dict[str, str]:
    with REFERENCE.open(encoding="utf-8") as fh:
        return {row["code12"]: row["name"] for row in csv.DictReader(fh) if row["level"] == "town"}


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.xlsx"))}


def test_populate_writes_five_registers_deterministically(tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in "abc")
    info = populate(a, seed=1, scale=1.0, uploaded_at=UPLOADED)
    populate(b, seed=1, scale=1.0, uploaded_at=UPLOADED)
    populate(c, seed=2, scale=1.0, uploaded_at=UPLOADED)
    assert sorted(digests(a)) == sorted(r.file_name for r in REGISTERS.values())
    assert digests(a) == digests(b) and digests(a) != digests(c)
    assert all(p.stat().st_mtime == UPLOADED.timestamp() for p in a.glob("*.xlsx"))
    villages = info["registers"]["division_facts"]["rows"] - 26  # the towns, then stand-in villages under them
    assert 300 < villages < 500
    assert info["registers"]["disaster_informants"]["rows"] > villages
    assert info["registers"]["material_stock"]["rows"] > 200
    assert info["personal"] and all(isinstance(v, str) for v in info["personal"])


def test_a_workbook_looks_like_a_staff_register(tmp_path: Path) -> None:
    populate(tmp_path, seed=3, scale=1.0, uploaded_at=UPLOADED)
    ws = load_workbook(tmp_path / "应急物资储备台账.xlsx").active
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:P1"]
    assert ws["A1"].value == "海城市应急物资储备台账（2026年11月）"
    assert all(c.value is None for c in ws[2])
    assert [c.value for c in ws[3]] == list(REGISTERS["material_stock"].names)
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert any(all(v is None for v in row) for row in rows[:-4])  # an empty line inside the table
    notes = [row[0] for row in rows[-3:]]
    assert notes[0].startswith("填报单位：") and notes[1].startswith("填报人：")
    assert notes[2] == "填报日期：2026年11月28日"
    cells = [v for row in rows for v in row if v is not None]
    assert any(isinstance(v, str) and v.strip().isdigit() for v in cells)  # numbers stored as text
    assert any(isinstance(v, str) and any("０" <= ch <= "９" for ch in v) for v in cells)  # full-width digits
    assert any(isinstance(v, str) and v != v.rstrip() for v in cells)  # trailing spaces
    units = {row[10] for row in rows if row[10]}
    assert {"t", "吨"} & units and {"頂", "顶"} & units
    assert any(isinstance(v, int) and 40_000 < v < 50_000 for row in rows for v in row[13:16])  # Excel serials
    assert any(isinstance(v, str) and "年" in v for row in rows for v in row[13:16])  # text dates


def test_registers_are_realistic_for_haicheng() -> None:
    names = towns()
    stock = GENERATORS["material_stock"](5, 1.0, 1, DAY, DAY)
    assert all(r["物资编码"][0] in "123" and len(r["物资编码"]) == 7 for r in stock)
    assert {r["级别"] for r in stock} == {"市级", "镇级", "社区", "协议代储"}
    assert {"帐篷", "棉被", "矿泉水", "沙袋"} <= {r["物资名称"] for r in stock}
    assert {r["计量单位"] for r in stock} >= {"顶", "件", "箱", "吨"}
    assert any(r["有效期至"] and r["有效期至"] < DAY for r in stock)  # something has expired
    teams = GENERATORS["rescue_teams"](5, 1.0, 1, DAY, DAY)
    kinds = Counter(r["队伍类型"] for r in teams)
    assert kinds["专业救援-矿山"] >= 3 and len(kinds) == 10
    chemicals = GENERATORS["chemical_enterprises"](5, 1.0, 1, DAY, DAY)
    assert all(is_valid_credit_code(r["统一社会信用代码"]) for r in chemicals)
    assert {r["重大危险源等级"] for r in chemicals} <= {"一级", "二级", "三级", "四级", "无"}
    hazards = GENERATORS["safety_hazards"](5, 1.0, 1, DAY, DAY)
    overdue = [r for r in hazards if r["整改状态"] in ("未整改", "整改中") and r["整改期限"] < DAY]
    assert overdue and all(is_valid_credit_code(r["统一社会信用代码"]) for r in hazards)
    assert all((r["整改完成日期"] is not None) == (r["整改状态"] in ("已整改", "已销号")) for r in hazards)
    facts = GENERATORS["division_facts"](5, 1.0, 1, DAY, DAY)
    town_rows = [r for r in facts if r["所属辖区代码"].endswith("000")]
    assert {r["所属辖区代码"] for r in town_rows} == set(names)
    assert all(names[r["所属辖区代码"]] == r["名称"] for r in town_rows)
    assert 900_000 < sum(r["常住人口"] for r in town_rows) < 1_100_000
    for rows in (stock, teams, chemicals):
        assert all(r["所属辖区代码"] in names for r in rows)


def _by_event(rows: list[dict]) -> dict[str, list[dict]]:
    events: dict[str, list[dict]] = {}
    for r in rows:
        events.setdefault(r["事件编号"], []).append(r)
    return events


def test_event_reports_cover_four_categories_across_towns_some_late_some_missing() -> None:
    names = towns()
    rows = GENERATORS["event_reports"](42, 1.0, 1, DAY, DAY)  # the demo's seed
    assert rows == GENERATORS["event_reports"](42, 1.0, 1, DAY, DAY)  # deterministic
    assert rows != GENERATORS["event_reports"](6, 1.0, 1, DAY, DAY)
    assert {r["事件类别代码"][:2] for r in rows} == {"11", "12", "13", "14"}
    assert all(r["所属辖区代码"] in names for r in rows) and len({r["所属辖区代码"] for r in rows}) >= 10
    assert all(r["报告时间"] < datetime(DAY.year, DAY.month, DAY.day) for r in rows)  # made before the version's day
    assert len({r["报告编号"] for r in rows}) == len(rows)
    events = _by_event(rows)
    limit = {"11": 120, "12": 60, "13": 120, "14": 60}
    late_initial = no_final = skipped_day = 0
    for reports in events.values():
        kinds = [r["报告类型"] for r in reports]
        assert kinds[0] == "初报" and kinds.count("初报") == 1 and kinds.count("核报") <= 1
        assert [r["报告时间"] for r in reports] == sorted(r["报告时间"] for r in reports)
        first = reports[0]
        assert first["报告时间"] > first["事发时间"]
        late_initial += (first["报告时间"] - first["事发时间"]).total_seconds() > limit[first["事件类别代码"][:2]] * 60
        last = reports[-1]["报告时间"]
        no_final += "核报" not in kinds and (datetime(DAY.year, DAY.month, DAY.day) - last).days > 6
        if first["事件类别代码"].startswith("11"):
            days = sorted({r["报告时间"].date() for r in reports if r["报告类型"] == "续报"})
            skipped_day += bool(days) and len(days) < (days[-1] - first["事发时间"].date()).days
        final = [r for r in reports if r["报告类型"] == "核报"]
        if final:  # the 核报 holds the final figures: nothing shrinks
            assert all(final[0]["受伤人数"] >= r["受伤人数"] for r in reports)
    assert late_initial > 0 and no_final > 0 and skipped_day > 0
    # Natural disasters follow the season: no 暴雨 in winter, no 暴雪 in summer.
    for r in rows:
        month = r["事发时间"].month
        assert not (r["事件类别代码"] == "11B03" and month in (11, 12, 1, 2, 3))
        assert not (r["事件类别代码"] == "11B04" and month in (6, 7, 8, 9))


def test_a_later_event_report_version_adds_reports_and_keeps_the_earlier_ones() -> None:
    first = GENERATORS["event_reports"](5, 1.0, 1, DAY, DAY)
    later = GENERATORS["event_reports"](5, 1.0, 2, DAY, date(2026, 12, 5))
    before = {r["报告编号"]: r for r in first}
    after = {r["报告编号"]: r for r in later}
    assert set(before) < set(after)
    assert all(after[k] == v for k, v in before.items())


def test_a_later_version_changes_some_rows_and_keeps_history(tmp_path: Path) -> None:
    first = GENERATORS["safety_hazards"](5, 1.0, 1, DAY, DAY)
    later = GENERATORS["safety_hazards"](5, 1.0, 2, DAY, date(2026, 12, 5))
    assert len(later) == len(first) + 6
    old = {r["隐患编号"]: r for r in first}
    closed = [r for r in later if r["隐患编号"] in old and old[r["隐患编号"]]["整改状态"] != r["整改状态"]]
    assert closed and all(r["整改状态"] == "已整改" for r in closed)
    assert all(old[r["隐患编号"]]["发现日期"] == r["发现日期"] for r in later if r["隐患编号"] in old)
    info = populate(tmp_path, seed=5, uploaded_at=UPLOADED)
    before = digests(tmp_path)
    result = upload_version(
        tmp_path,
        "救援队伍台账.xlsx",
        seed=5,
        version=2,
        base_date=date.fromisoformat(info["base_date"]),
        uploaded_at=datetime(2026, 11, 29, tzinfo=UTC),
    )
    after = digests(tmp_path)
    assert result["rows"] == info["registers"]["rescue_teams"]["rows"] + 1
    assert [n for n in after if after[n] != before[n]] == ["救援队伍台账.xlsx"]


def test_fault_switches_damage_what_they_say(tmp_path: Path) -> None:
    info = populate(tmp_path, seed=8, uploaded_at=UPLOADED, faults={"malformed_rate": 0.05, "duplicate_rate": 0.05})
    stock = info["registers"]["material_stock"]
    assert stock["malformed"] and stock["duplicates"] > 0
    # Every written row is good, damaged or a pasted copy (a damaged row pasted twice counts as damaged twice).
    assert stock["rows"] + len(stock["malformed"]) <= stock["rows_written"]
    assert stock["rows_written"] <= stock["rows"] + len(stock["malformed"]) + stock["duplicates"]
    wrong = upload_version(tmp_path, "division_facts", seed=8, faults={"wrong_header": True})
    dropped, renamed, new_name = WRONG_HEADER["division_facts"]
    header = [c.value for c in load_workbook(tmp_path / "辖区基础信息.xlsx").active[3]]
    assert dropped not in header and renamed not in header and new_name in header
    assert wrong["missing"] == [dropped, renamed] and wrong["unknown"] == [new_name]


def _gb18218_tables() -> tuple[dict[str, tuple[float, float]], list[tuple[int, float]], list[tuple[float, str]]]:
    """Q and β by every name and alias, α bands and R levels, read from the platform's seeds (not the stand-in)."""
    seeds = Path(__file__).resolve().parents[3] / "dbt" / "seeds"

    def rows(name: str) -> list[dict[str, str]]:
        with (seeds / f"{name}.csv").open(encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    entries = {
        r["entry_code"]: (float(r["critical_quantity_t"]), float(r["beta"]))
        for r in rows("ref_gb18218_critical_quantities")
    }
    by_name: dict[str, tuple[float, float]] = {}
    for r in rows("ref_hazardous_chemicals"):
        for name in [r["chemical_name"], *filter(None, r["aliases"].split(";"))]:
            if r["gb18218_entry_code"]:
                by_name[name] = entries[r["gb18218_entry_code"]]
    alpha = sorted(
        ((int(r["persons_min"]), float(r["alpha"])) for r in rows("ref_gb18218_exposure_factors")), reverse=True
    )
    levels = sorted(
        ((float(r["r_min"]), r["level_code"]) for r in rows("ref_major_hazard_levels") if r["r_min"]), reverse=True
    )
    return by_name, alpha, levels


def test_declared_major_hazard_levels_follow_gb18218_but_a_few() -> None:
    by_name, alpha_bands, levels = _gb18218_tables()
    facts = {r["所属辖区代码"]: r for r in GENERATORS["division_facts"](42, 1.0, 1, DAY, DAY)}
    chemicals = GENERATORS["chemical_enterprises"](42, 1.0, 1, DAY, DAY)
    disagreeing, computed_levels = [], Counter()
    for i, row in enumerate(chemicals):
        items = [item.rsplit(" ", 1) for item in row["主要危险化学品"].split("；")]
        if any(len(item) != 2 for item in items):  # quantities not itemised: nothing to compare
            continue
        known = [
            (float(q.rstrip("t吨")), *by_name[name.split("(")[0]]) for name, q in items if name.split("(")[0] in by_name
        ]
        s = sum(q / big_q for q, big_q, _ in known)
        fact = facts[row["所属辖区代码"]]
        persons = int(fact["常住人口"] / fact["面积(km²)"] * 3.141592653589793 * 0.25)
        alpha = next(a for least, a in alpha_bands if persons >= least)
        r_value = alpha * sum(beta * q / big_q for q, big_q, beta in known)
        level = "无" if s < 1 else next(name for least, name in levels if r_value >= least)
        computed_levels[level] += 1
        if level != row["重大危险源等级"]:
            disagreeing.append(i)
        if row["企业名称"].endswith("加油站") and sum(q for q, _, _ in known) < 200:
            assert level == "无"  # a petrol station under 200 t is not a major hazard
        if row["主要危险化学品"].startswith("液氯") and known[0][0] == 5.2:
            assert s > 1 and level == "四级"  # 5.2 t of chlorine is one
    assert disagreeing and all(i % 10 == 4 for i in disagreeing)
    assert len(disagreeing) <= len(chemicals) // 8
    assert computed_levels["无"] and computed_levels["四级"] and computed_levels["三级"]
    assert any(re.fullmatch(r"液氯(\(7782-50-5\))? 5\.2(t|吨)", r["主要危险化学品"]) for r in chemicals)


def test_villages_sit_under_their_towns_and_partition_the_population() -> None:
    names = towns()
    facts = GENERATORS["division_facts"](5, 1.0, 1, DAY, DAY)
    town_pop = {r["所属辖区代码"]: r["常住人口"] for r in facts if r["所属辖区代码"] in names}
    villages = [r for r in facts if r["所属辖区代码"] not in names]
    by_town: Counter[str] = Counter()
    for r in villages:
        code = r["所属辖区代码"]
        assert code[:9] + "000" in names and 1 <= int(code[9:]) <= 399, code
        assert (int(code[9:]) < 200) == r["名称"].endswith("社区"), r  # 001–199 居委会, 200–399 村委会
        by_town[code[:9] + "000"] += r["常住人口"]
    assert set(by_town) == set(names)
    assert all(abs(by_town[t] - town_pop[t]) <= 30 for t in names)  # rounding only
    assert len({r["所属辖区代码"] for r in facts}) == len(facts)


def test_informants_hold_a_and_b_posts_with_gaps() -> None:
    facts = GENERATORS["division_facts"](5, 1.0, 1, DAY, DAY)
    villages = {r["所属辖区代码"]: r["名称"] for r in facts if not r["所属辖区代码"].endswith("000")}
    rows = GENERATORS["disaster_informants"](5, 1.0, 1, DAY, DAY)
    posts: dict[str, set[str]] = {}
    for r in rows:
        assert villages[r["所属村居代码"]] == r["村居名称"] and r["所属镇街代码"][:9] == r["所属村居代码"][:9]
        assert r["岗位"] in ("A岗", "B岗") and r["上岗日期"] <= DAY
        assert r["培训日期"] is None or r["上岗日期"] <= r["培训日期"] <= DAY
        posts.setdefault(r["所属村居代码"], set()).add(r["岗位"])
    kinds = Counter(frozenset(p) for p in posts.values())
    assert len(rows) == sum(len(p) for p in posts.values())  # one row per village and post
    both = kinds[frozenset({"A岗", "B岗"})]
    assert 0.6 < both / len(villages) < 0.95  # most villages covered, some not
    assert kinds[frozenset({"A岗"})] and kinds[frozenset({"B岗"})] and len(posts) < len(villages)
    later = GENERATORS["disaster_informants"](5, 1.0, 3, DAY, date(2026, 12, 12))
    assert len(later) > len(rows)  # vacancies filled in later versions


def test_fire_stations_leave_the_towns_the_plan_names_blank() -> None:
    teams = GENERATORS["rescue_teams"](5, 1.0, 3, DAY, DAY)
    names = towns()
    stations = {names[r["所属辖区代码"]] for r in teams if r["队伍类型"] == "综合性消防救援"}
    # 海城市应急体系建设“十四五”规划: 推进海城南台、牛庄、孤山、高坨子等空白区域政府专职消防站建设
    assert stations and not stations & {"南台镇", "牛庄镇", "孤山镇", "高坨镇"}
