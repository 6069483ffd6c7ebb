"""The house rule for code tables, checked on the seeds' CSV files (no database).

A code is marked ``standard`` only when the clause or table of the standard it
was checked against is cited (``source_clause``); otherwise it is
``to_confirm`` with a note. GB/T 35561-2017 11D 地质灾害 and 11G 森林草原火灾
follow issue 13's review (11D02 泥石流, 11D03 崩塌, 11G05 草原火灾).
"""

from __future__ import annotations

import csv
from itertools import pairwise

from edp.settings import REPO_ROOT

SEEDS = REPO_ROOT / "dbt" / "seeds"


def seed_rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_a_code_is_standard_only_with_its_source_clause_cited() -> None:
    for row in seed_rows("ref_event_categories"):
        assert row["source_standard"], row["code"]
        if row["code_status"] == "standard":
            assert row["source_clause"].strip(), f"{row['code']} is marked standard without a cited clause"
        else:
            assert row["code_status"] == "to_confirm" and row["status_note"].strip(), row["code"]


def test_geohazard_kinds_follow_the_national_table() -> None:
    categories = {r["code"]: r["name"] for r in seed_rows("ref_event_categories")}
    assert categories["11D02"] == "泥石流" and categories["11D03"] == "崩塌"
    assert categories["11G05"] == "草原火灾" and "11G02" not in categories
    for row in seed_rows("ref_geohazard_types"):
        assert categories[row["event_category_code"]] == row["geohazard_type"]


def test_warning_types_outside_the_14_signals_are_known_categories() -> None:
    categories = {r["code"]: r for r in seed_rows("ref_event_categories")}
    for code in ("11B20", "11B25", "11A51"):
        assert categories[code]["level"] == "kind" and categories[code]["top_code"] == "11000"


def test_sl323_codes_name_their_table_and_field_and_fstp_4_is_no_flood_season() -> None:
    rows = seed_rows("ref_sl323_codes")
    for row in rows:
        assert row["source_standard"].startswith("SL 323-2011") and row["source_clause"].strip(), row
        assert row["code_status"] == "standard" or row["status_note"].strip(), row
    fstp = {r["code"]: r["is_flood_season"] for r in rows if r["code_list"] == "FSTP"}
    assert fstp == {"1": "true", "2": "true", "3": "true", "4": "false"}
    frgrd = [r for r in rows if r["code_list"] == "FRGRD"]
    assert len(frgrd) == 4 and all("不是风险等级" in r["status_note"] for r in frgrd)


def test_accident_grades_follow_decree_493_article_3() -> None:
    """以上 includes the number, 以下 excludes it: each band starts where the one below ends."""
    grades = sorted(seed_rows("ref_accident_grades"), key=lambda r: int(r["grade_rank"]))
    assert [g["accident_grade"] for g in grades] == ["一般", "较大", "重大", "特别重大"]
    assert all(g["code_status"] == "standard" and "第三条" in g["source_clause"] for g in grades)
    assert all("493" in g["source_standard"] for g in grades)
    for low, high in pairwise(grades):
        for measure in ("deaths", "serious_injuries", "direct_loss_yuan"):
            assert low[f"max_{measure}"] == high[f"min_{measure}"], (low["accident_grade"], measure)
    top = grades[-1]
    assert (top["min_deaths"], top["min_serious_injuries"], top["min_direct_loss_yuan"]) == ("30", "100", "100000000")
    assert not top["max_deaths"] and [g["min_deaths"] for g in grades] == ["0", "3", "10", "30"]


GB18218_SEEDS = (
    "ref_gb18218_critical_quantities",
    "ref_gb18218_beta_factors",
    "ref_gb18218_exposure_factors",
    "ref_major_hazard_levels",
    "ref_hazardous_chemicals",
)


def test_gb18218_rows_name_their_source_and_are_standard_only_when_read() -> None:
    for name in GB18218_SEEDS:
        for row in seed_rows(name):
            assert row["source_standard"] and row["source_clause"].strip(), (name, row)
            assert row["code_status"] in ("standard", "to_confirm"), (name, row)
            assert row["status_note"].strip(), (name, row)  # what the row rests on, read or not


def test_gb18218_table_1_has_its_85_chemicals_with_the_known_critical_quantities() -> None:
    rows = seed_rows("ref_gb18218_critical_quantities")
    table1 = {int(r["table_seq"]): r for r in rows if r["source_table"] == "表1"}
    assert sorted(table1) == list(range(1, 86))
    by_cas = {cas: r for r in table1.values() for cas in r["cas_numbers"].split(";") if cas}
    for cas, quantity, beta in (
        ("7782-50-5", 5, 4),  # 氯 (表3 β 4)
        ("7664-41-7", 10, 2),  # 氨
        ("86290-81-5", 200, 1),  # 汽油
        ("68476-85-7", 50, 1.5),  # 液化石油气 (易燃气体 β 1.5)
        ("67-56-1", 500, 1),  # 甲醇
        ("71-43-2", 50, 1),  # 苯
        ("8006-14-2", 50, 1.5),  # 天然气
        ("1333-74-0", 5, 1.5),  # 氢
    ):
        assert float(by_cas[cas]["critical_quantity_t"]) == quantity, cas
        assert float(by_cas[cas]["beta"]) == beta, cas
    table2 = {r["hazard_category"]: float(r["critical_quantity_t"]) for r in rows if r["source_table"] == "表2"}
    assert table2["J1"] == 5 and table2["W5.4"] == 5000 and len(table2) == 24


def test_gb18218_alpha_bands_and_levels_cover_every_count_and_r() -> None:
    bands = seed_rows("ref_gb18218_exposure_factors")
    alpha = {
        n: float(b["alpha"])
        for n in range(0, 200)
        for b in bands
        if int(b["persons_min"]) <= n and (not b["persons_max"] or n <= int(b["persons_max"]))
    }
    assert len(alpha) == 200
    assert (alpha[0], alpha[1], alpha[29], alpha[30], alpha[49], alpha[50], alpha[99], alpha[100]) == (
        0.5,
        1.0,
        1.0,
        1.2,
        1.2,
        1.5,
        1.5,
        2.0,
    )
    levels = [r for r in seed_rows("ref_major_hazard_levels") if r["r_min"]]
    assert {r["level_code"]: (float(r["r_min"]), r["r_max"]) for r in levels} == {
        "一级": (100.0, ""),
        "二级": (50.0, "100"),
        "三级": (10.0, "50"),
        "四级": (0.0, "10"),
    }


def test_catalogue_entries_point_to_gb18218_entries() -> None:
    entries = {r["entry_code"] for r in seed_rows("ref_gb18218_critical_quantities")}
    catalogue = seed_rows("ref_hazardous_chemicals")
    assert all(r["gb18218_entry_code"] in entries for r in catalogue if r["gb18218_entry_code"])
    names = {n for r in catalogue for n in [r["chemical_name"], *r["aliases"].split(";")]}
    assert {
        "液氯",
        "液氨",
        "汽油",
        "柴油",
        "液化石油气",
        "液化天然气",
        "甲醇",
        "硫酸",
        "盐酸",
        "双氧水",
        "保险粉",
    } <= names


def test_readiness_tables_cite_their_source_or_are_to_confirm() -> None:
    for name, key in (("ref_relief_need_basis", "need_item_code"), ("ref_plan_fire_station_towns", "code12")):
        for row in seed_rows(name):
            assert row["source_standard"], row[key]
            if row["code_status"] == "standard":
                assert row["source_clause"].strip(), f"{name}.{row[key]} is marked standard without a cited clause"
            else:
                assert row["code_status"] == "to_confirm" and row["status_note"].strip(), row[key]
    plan = {r["plan_name"] for r in seed_rows("ref_plan_fire_station_towns")}
    assert plan == {"南台", "牛庄", "孤山", "高坨子"}  # as the plan writes them


def test_report_time_limits_name_their_source_and_cover_every_category_and_report_type() -> None:
    limits = seed_rows("ref_report_time_limits")
    assert {(r["top_category_code"], r["report_type"]) for r in limits} == {
        (top, kind) for top in ("11000", "12000", "13000", "14000") for kind in ("初报", "续报", "核报")
    }
    for row in limits:
        assert row["source_standard"], row["limit_id"]
        if row["code_status"] == "standard":
            assert row["source_clause"].strip() and "未读到" not in row["source_clause"], row["limit_id"]
        else:
            assert row["code_status"] == "to_confirm" and row["status_note"].strip(), row["limit_id"]
        assert (row["rule_kind"] == "daily_by_local_time") == (row["limit_minutes"] == ""), row["limit_id"]
    initial = {r["top_category_code"]: int(r["limit_minutes"]) for r in limits if r["report_type"] == "初报"}
    assert initial["11000"] == 120 and initial["12000"] == 60  # 统计调查制度 初报 2 小时; 493号 第九条 1 小时


def test_every_category_has_classes_the_registers_use() -> None:
    categories = {r["code"]: r for r in seed_rows("ref_event_categories")}
    for top in ("11000", "12000", "13000", "14000"):
        assert any(r["top_code"] == top and r["level"] == "class" for r in categories.values()), top
    from standins.bureau.reports import KINDS

    for kind in KINDS:
        assert kind.code in categories, kind.code
        assert categories[kind.code]["top_code"] == kind.code[:2] + "000"
