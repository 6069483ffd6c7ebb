"""Row-level or dataset-level: what a failing rule holds back.

A *row-level* rule judges each record on its own (a credit code, a
coordinate, a time that has happened): when it fails, the failing records are
held back from the exchange (``audit.row_holds``, see ``edp.quality.holds``)
and the rest of the dataset goes out. A *dataset-level* rule judges the
dataset as a whole (columns, row count, volume, freshness, reconciliation
with the loads, uniqueness across the table, traces between layers): when a
blocking one fails, the whole dataset is held back, as before.

The level follows from the expectation type where the type says it (GX's
column-value expectations are row-level, table expectations dataset-level).
An ``UnexpectedRowsExpectation`` can be either, so it must be declared: in
its ``meta`` (``expectations.rules`` builders do so) or in
:data:`UNEXPECTED_ROWS_LEVELS` by rule id. ``tests/edp/quality/test_rule_levels.py``
fails for a rule whose level is not known, so a new rule has to say which it is.
Imports no GX.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    ROW = "row"  # 行级：失败的记录被扣留，其余照常发布
    DATASET = "dataset"  # 数据集级：阻断时整个数据集不发布


LEVEL_LABELS: dict[Level, str] = {Level.ROW: "行级", Level.DATASET: "数据集级"}

# GX expectation types whose level the type decides.
TYPE_LEVELS: dict[str, Level] = {
    "expect_column_values_to_be_between": Level.ROW,
    "expect_column_values_to_be_in_set": Level.ROW,
    "expect_column_values_to_not_be_in_set": Level.ROW,
    "expect_column_values_to_not_be_null": Level.ROW,
    "expect_column_values_to_match_regex": Level.ROW,
    "expect_column_values_to_not_match_regex": Level.ROW,
    "expect_column_pair_values_a_to_be_greater_than_b": Level.ROW,
    "expect_column_pair_values_to_be_equal": Level.ROW,
    "expect_table_columns_to_match_set": Level.DATASET,
    "expect_table_row_count_to_be_between": Level.DATASET,
    # Uniqueness is a property of the table: which of two duplicates is "the bad row" is not known.
    "expect_compound_columns_to_be_unique": Level.DATASET,
    "expect_column_values_to_be_unique": Level.DATASET,
    "edp_table_is_readable": Level.DATASET,
}

# Unexpected-rows rules built outside the level-aware builders of expectations.rules, by rule id.
UNEXPECTED_ROWS_LEVELS: dict[str, Level] = {
    # Dataset: loads, volume, freshness, emptiness, coverage, uniqueness across rows, traces, counts.
    "batches_reconciled": Level.DATASET,
    "volume_in_line": Level.DATASET,
    "fresh_per_schedule": Level.DATASET,
    "not_empty": Level.DATASET,
    "every_town_listed": Level.DATASET,
    "every_town_assessed": Level.DATASET,
    "one_initial_report_per_event": Level.DATASET,
    "one_current_version_per_site": Level.DATASET,
    "events_counted": Level.DATASET,
    "due_reports_counted": Level.DATASET,
    "reports_traced": Level.DATASET,
    "obs_count_traced_to_raw": Level.DATASET,
    # Row: each record judged on its own values (and reference tables).
    "counts_add_up": Level.ROW,
    "geometry_of_layer_type": Level.ROW,
    "division_code_known_division": Level.ROW,
    "village_code_known_division": Level.ROW,
    "obs_hour_not_future": Level.ROW,
    "built_year_not_future": Level.ROW,
    "drp_plausible_for_period": Level.ROW,
    "z_plausible_for_station": Level.ROW,
    "rz_plausible_for_reservoir": Level.ROW,
    "bgmd_calendar_day": Level.ROW,
    "edmd_calendar_day": Level.ROW,
    "caller_id_valid": Level.ROW,
    "capacity_fits_area": Level.ROW,
    "rectified_has_date": Level.ROW,
    "village_in_town": Level.ROW,
    "village_under_its_town": Level.ROW,
    "obs_hour_on_the_hour": Level.ROW,
    "values_differ": Level.ROW,
    "names_a_reason": Level.ROW,
    "major_hazard_when_s_reaches_1": Level.ROW,
    "declared_grade_follows_gb18218": Level.ROW,
    "haicheng_division_codes_known": Level.ROW,
    "shortfall_is_need_beyond_reach": Level.ROW,
    "covered_means_both_posts": Level.ROW,
    "on_time_or_late_when_due": Level.ROW,
}


class UndeclaredLevel(LookupError):
    """A rule whose level is neither declared nor implied by its expectation type."""


def declared_level(expectation_type: str, meta: Mapping[str, Any] | None) -> Level:
    """The rule's level; :class:`UndeclaredLevel` when nobody said."""
    meta = meta or {}
    if meta.get("level"):
        return Level(meta["level"])
    if expectation_type in TYPE_LEVELS:
        return TYPE_LEVELS[expectation_type]
    rule_id = meta.get("rule_id")
    if expectation_type == "unexpected_rows_expectation" and rule_id in UNEXPECTED_ROWS_LEVELS:
        return UNEXPECTED_ROWS_LEVELS[rule_id]
    raise UndeclaredLevel(f"rule {rule_id or expectation_type!r} ({expectation_type}) declares no level (row/dataset)")


def level_of(expectation_type: str, meta: Mapping[str, Any] | None) -> Level:
    """At run time an undeclared rule is dataset-level: a failure then blocks, as strictly as possible."""
    try:
        return declared_level(expectation_type, meta)
    except UndeclaredLevel:
        return Level.DATASET
