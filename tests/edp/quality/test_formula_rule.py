"""Formula-like text in a mart is a row-level warning finding: flagged with its key, nothing blocked, value kept."""

from __future__ import annotations

import pytest

from edp.quality.runner import dataset_status, run_checks
from edp.settings import Settings
from expectations import SUITES
from expectations.levels import Level, declared_level
from tests.support.weather_tables import MART

pytestmark = pytest.mark.integration

PAYLOADS = ("=cmd|' /C calc'!A0", "@SUM(1+1)", '+HYPERLINK("http://127.0.0.1","x")', "\t=1", "\r=1")


def test_every_mart_with_text_columns_has_the_formula_rule_at_row_level_as_a_warning() -> None:
    rules = {
        name: [e for e in entry.build().expectations if e.meta["rule_id"] == "text_not_formula_like"]
        for name, entry in SUITES.items()
        if entry.layer == "marts"
    }
    assert rules["marts.dim_enterprise"] and rules["marts.fct_hazard_event"]
    for found in rules.values():
        for e in found:
            assert e.meta["severity"] == "warning"
            assert declared_level(e.expectation_type, e.meta) == Level.ROW


def test_formula_payloads_are_flagged_by_key_and_kept(weather_tables: Settings, sql) -> None:
    ids = [r.hourly_extreme_id for r in sql(f"select hourly_extreme_id from {MART} order by 1 limit {len(PAYLOADS)}")]
    for key, payload in zip(ids, PAYLOADS, strict=True):
        sql(f"update {MART} set division_name = :p where hourly_extreme_id = :k", p=payload, k=key)
    sql(f"update {MART} set division_name = '-12.5' where hourly_extreme_id <> all(:ids)", ids=ids)

    run = run_checks(weather_tables, [MART])

    assert run.success and dataset_status(weather_tables, [MART]) == {MART: "ok"}
    (row,) = sql(
        "select * from audit.expectation_results where run_id = :r and expectation_id = 'text_not_formula_like'",
        r=run.run_id,
    )
    assert (row.success, row.severity, row.level) == (False, "warning", "row")
    assert row.unexpected_count == len(PAYLOADS)  # a negative number is not a formula
    assert {s["hourly_extreme_id"] for s in row.unexpected_sample} == set(ids)
    kept = {
        r.division_name for r in sql(f"select division_name from {MART} where hourly_extreme_id = any(:ids)", ids=ids)
    }
    assert kept == set(PAYLOADS)  # the data is not changed; exports neutralise it
