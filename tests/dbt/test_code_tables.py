"""The house rule for code tables, checked on the seeds' CSV files (no database).

A code is marked ``standard`` only when the clause or table of the standard it
was checked against is cited (``source_clause``); otherwise it is
``to_confirm`` with a note. GB/T 35561-2017 11D 地质灾害 and 11G 森林草原火灾
follow issue 13's review (11D02 泥石流, 11D03 崩塌, 11G05 草原火灾).
"""

from __future__ import annotations

import csv

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
