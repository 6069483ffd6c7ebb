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
