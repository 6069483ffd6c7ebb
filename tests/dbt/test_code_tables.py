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
