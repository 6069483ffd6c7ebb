"""Every rule says whether it is about single records (row) or the dataset: what a failure holds back."""

from __future__ import annotations

import pytest

from expectations import SUITES
from expectations.levels import TYPE_LEVELS, UNEXPECTED_ROWS_LEVELS, Level, UndeclaredLevel, declared_level, level_of


def _every_rule() -> list[tuple[str, str, str, dict]]:
    found = []
    for name, entry in SUITES.items():
        suite = entry.build({entry.source: "*/15 * * * *"} if entry.source else None)
        found += [(name, e.meta["rule_id"], e.expectation_type, dict(e.meta)) for e in suite.expectations]
    return found


RULES = _every_rule()


def test_every_rule_of_every_suite_declares_or_implies_its_level() -> None:
    undeclared = []
    for dataset, rule_id, kind, meta in RULES:
        try:
            declared_level(kind, meta)
        except UndeclaredLevel:
            undeclared.append((dataset, rule_id))
    assert undeclared == []


@pytest.mark.parametrize(
    ("rule_id", "level"),
    [
        # Dataset: volume, freshness, reconciliation with the loads, uniqueness across rows, traces, columns.
        ("volume_in_line", Level.DATASET),
        ("fresh_per_schedule", Level.DATASET),
        ("batches_reconciled", Level.DATASET),
        ("not_empty", Level.DATASET),
        ("columns_exist", Level.DATASET),
        ("one_current_version_per_site", Level.DATASET),
        ("waybills_traced_to_raw", Level.DATASET),
        # Row: each record judged on its own.
        ("credit_code_valid", Level.ROW),
        ("location_in_haicheng", Level.ROW),
        ("z_plausible_for_station", Level.ROW),
        ("occurred_at_not_future", Level.ROW),
    ],
)
def test_known_rules_are_classified_as_their_meaning_says(rule_id: str, level: Level) -> None:
    found = {declared_level(kind, meta) for _, rid, kind, meta in RULES if rid == rule_id}
    assert found == {level}


def test_column_value_expectations_are_row_level_and_table_expectations_dataset_level() -> None:
    kinds = {kind: declared_level(kind, meta) for _, _, kind, meta in RULES if kind != "unexpected_rows_expectation"}
    assert kinds["expect_column_values_to_be_between"] == Level.ROW
    assert kinds["expect_column_pair_values_a_to_be_greater_than_b"] == Level.ROW
    assert kinds["expect_compound_columns_to_be_unique"] == Level.DATASET  # which duplicate is "bad" is unknown
    assert kinds["expect_table_row_count_to_be_between"] == Level.DATASET
    assert set(kinds) <= set(TYPE_LEVELS)


def test_an_undeclared_sql_rule_must_say_and_blocks_the_dataset_at_run_time() -> None:
    meta = {"rule_id": "something_new"}
    assert "something_new" not in UNEXPECTED_ROWS_LEVELS
    with pytest.raises(UndeclaredLevel, match="something_new"):
        declared_level("unexpected_rows_expectation", meta)
    assert level_of("unexpected_rows_expectation", meta) == Level.DATASET
    assert level_of("unexpected_rows_expectation", {**meta, "level": "row"}) == Level.ROW
