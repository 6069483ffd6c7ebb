"""Small builders of our rules: GX expectations that carry severity, dimension and both languages.

Suites call these instead of GX directly, so every expectation is tagged the
same way (``dimensions.rule``) and a failing row is named the same way: by
its key and, in raw, its load batch (``_batch_id``).

SQL rules are ``UnexpectedRowsExpectation``s: GX fills ``{batch}`` with the
validated rows (always a derived table, whole tables too) with
``str.format``, so any other brace is doubled (:func:`braces`). A query that
contains JOIN writes ``{batch} <alias>`` (GX then substitutes a bare
parenthesised subquery); a query without JOIN writes ``{batch}`` alone (GX
adds ``AS subselect``) and refers to its columns unqualified.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from expectations.dimensions import Dimension, Severity, rule
from expectations.levels import Level
from expectations.reference import (
    COUNTY_CODE,
    FUTURE_TOLERANCE,
    LAT_RANGE,
    LOCAL_TODAY,
    LON_RANGE,
    division_codes,
    division_codes_sql,
)

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation
    from great_expectations.expectations.row_conditions import Condition

BLOCKING, WARNING = Severity.BLOCKING, Severity.WARNING

# Filled by edp.quality.uscc before each run (GB 32100-2015 clause 4); see credit_code_valid.
CREDIT_CODES_TABLE = "audit.credit_codes"


def q(name: str) -> str:
    """A quoted SQL identifier (columns such as ``references`` are reserved words)."""
    return '"' + name.replace('"', '""') + '"'


def braces(text: str) -> str:
    """Escape braces for GX's ``str.format`` of an unexpected-rows query."""
    return text.replace("{", "{{").replace("}", "}}")


def row_ref(keys: Sequence[str], *columns: str, lineage: bool = True, alias: str = "") -> str:
    """The select list naming a row: its key, its load batch (raw), then the values that failed."""
    names = [*keys, *(["_batch_id"] if lineage else []), *(c for c in columns if c not in keys)]
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + q(n) for n in names)


def between(
    column: str,
    low: float | None,
    high: float | None,
    zh: str,
    en: str,
    *,
    rule_id: str | None = None,
    severity: Severity = BLOCKING,
    dimension: Dimension = Dimension.ACCURACY,
    condition: Condition | None = None,
) -> Expectation:
    import great_expectations.expectations as gxe

    kwargs: dict[str, Any] = {"row_condition": condition} if condition is not None else {}
    return gxe.ExpectColumnValuesToBeBetween(
        column=column,
        min_value=low,
        max_value=high,
        **kwargs,
        **rule(rule_id or f"{column}_in_range", severity, dimension, zh, en),
    )


def in_set(
    column: str,
    values: Iterable[Any],
    zh: str,
    en: str,
    *,
    rule_id: str | None = None,
    severity: Severity = WARNING,
    dimension: Dimension = Dimension.CONFORMITY,
) -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToBeInSet(
        column=column,
        value_set=sorted(values),
        **rule(rule_id or f"{column}_known_code", severity, dimension, zh, en),
    )


def matches(
    column: str,
    regex: str,
    zh: str,
    en: str,
    *,
    rule_id: str | None = None,
    severity: Severity = WARNING,
    dimension: Dimension = Dimension.CONFORMITY,
) -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToMatchRegex(
        column=column, regex=regex, **rule(rule_id or f"{column}_format", severity, dimension, zh, en)
    )


def not_before(
    later: str,
    earlier: str,
    zh: str,
    en: str,
    *,
    rule_id: str | None = None,
    severity: Severity = WARNING,
    dimension: Dimension = Dimension.CONSISTENCY,
) -> Expectation:
    """``later >= earlier`` where both are present (a pair of times, or of quantities)."""
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=later,
        column_B=earlier,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
        **rule(rule_id or f"{later}_not_before_{earlier}", severity, dimension, zh, en),
    )


def unexpected_rows(
    rule_id: str,
    query: str,
    severity: Severity,
    dimension: Dimension,
    zh: str,
    en: str,
    *,
    level: Level | None = None,
) -> Expectation:
    """A SQL rule; ``level`` here or in ``expectations.levels.UNEXPECTED_ROWS_LEVELS`` (a row-level
    rule's query selects the dataset's key columns, so its failing rows can be held back)."""
    import great_expectations.expectations as gxe

    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=query, **rule(rule_id, severity, dimension, zh, en, level=level)
    )


def not_empty() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectTableRowCountToBeBetween(
        min_value=1,
        **rule("not_empty", WARNING, Dimension.COMPLETENESS, "表中有数据", "the table has rows"),
    )


# -- rules with the same meaning in every source ------------------------------------------------------


def division_code_known(column: str, *, severity: Severity = BLOCKING) -> Expectation:
    """The code is one of the 27 of ``ref_divisions`` (NULL is allowed: required fields are typed at ingest)."""
    return in_set(
        column,
        division_codes(),
        f"{column} 为海城市区划代码表（ref_divisions，27 个）中的代码",
        f"{column} is one of the 27 codes of ref_divisions (Haicheng)",
        rule_id=f"{column}_known_division",
        severity=severity,
    )


def division_code_known_if_local(
    keys: Sequence[str], column: str, *, severity: Severity = BLOCKING, lineage: bool = True
) -> Expectation:
    """A 12-digit code; one inside 海城市 (``210381…``) must be in ``ref_divisions`` (others are elsewhere)."""
    query = (
        f"select {row_ref(keys, column, lineage=lineage)} from {{batch}} "
        f"where {q(column)} is not null and ({q(column)} !~ '{braces('^[0-9]{12}$')}' "
        f"or ({q(column)} like '{COUNTY_CODE}%' and {q(column)} not in {division_codes_sql()}))"
    )
    return unexpected_rows(
        f"{column}_known_division",
        query,
        severity,
        Dimension.CONFORMITY,
        f"{column} 为 12 位区划代码；海城市（{COUNTY_CODE}）内的代码须在区划代码表中",
        f"{column} is a 12-digit division code; a code inside Haicheng ({COUNTY_CODE}) is in ref_divisions",
        level=Level.ROW,
    )


def division_codes_known_json(keys: Sequence[str], column: str, *, severity: Severity = BLOCKING) -> Expectation:
    """A JSON list of 12-digit codes; those inside 海城市 are in ``ref_divisions``."""
    elements = f"jsonb_array_elements_text(case when jsonb_typeof({q(column)}) = 'array' then {q(column)} end)"
    bad = f"c !~ '{braces('^[0-9]{12}$')}' or (c like '{COUNTY_CODE}%' and c not in {division_codes_sql()})"
    query = (
        f"select {row_ref(keys, column)} from {{batch}} where {q(column)} is not null and "
        f"(jsonb_typeof({q(column)}) <> 'array' or exists (select 1 from {elements} as e(c) where {bad}))"
    )
    return unexpected_rows(
        f"{column}_known_divisions",
        query,
        severity,
        Dimension.CONFORMITY,
        f"{column} 为 12 位区划代码的列表；海城市内的代码须在区划代码表中",
        f"{column} is a list of 12-digit division codes; those inside Haicheng are in ref_divisions",
        level=Level.ROW,
    )


def located_in_haicheng(
    keys: Sequence[str],
    lon: str = "lon",
    lat: str = "lat",
    *,
    where: str = "true",
    where_zh: str = "",
    where_en: str = "",
    severity: Severity = BLOCKING,
    lineage: bool = True,
) -> Expectation:
    """A point of a record in 海城市 lies in its bounding box (``where`` says which records are in it)."""
    (x0, x1), (y0, y1) = LON_RANGE, LAT_RANGE
    query = (
        f"select {row_ref(keys, lon, lat, lineage=lineage)} from {{batch}} "
        f"where {q(lon)} is not null and {q(lat)} is not null and ({where}) "
        f"and not ({q(lon)} between {x0} and {x1} and {q(lat)} between {y0} and {y1})"
    )
    return unexpected_rows(
        "location_in_haicheng",
        query,
        severity,
        Dimension.ACCURACY,
        f"坐标（{lon}, {lat}）在海城市范围内：经度 {x0}～{x1}，纬度 {y0}～{y1}{where_zh}",
        f"({lon}, {lat}) lies in Haicheng's bounding box lon {x0}..{x1}, lat {y0}..{y1}{where_en}",
        level=Level.ROW,
    )


def not_future(
    keys: Sequence[str], column: str, *, is_date: bool = False, severity: Severity = BLOCKING, lineage: bool = True
) -> Expectation:
    """A time (or a day, in 海城市) that has happened is not in the future."""
    limit = LOCAL_TODAY if is_date else f"now() + interval '{FUTURE_TOLERANCE}'"
    query = f"select {row_ref(keys, column, lineage=lineage)} from {{batch}} where {q(column)} > {limit}"
    tolerance_zh = "（按北京时间日期）" if is_date else f"（容差 {FUTURE_TOLERANCE}）"
    tolerance_en = " (as a day in Asia/Shanghai)" if is_date else f" (tolerance {FUTURE_TOLERANCE})"
    return unexpected_rows(
        f"{column}_not_future",
        query,
        severity,
        Dimension.ACCURACY,
        f"{column} 不晚于当前时间{tolerance_zh}",
        f"{column} is not in the future{tolerance_en}",
        level=Level.ROW,
    )


def credit_code_valid(
    keys: Sequence[str], column: str, *, severity: Severity = BLOCKING, lineage: bool = True
) -> Expectation:
    """GB 32100-2015 clause 4: 18 characters of the code's set, a digit division code, the right check character.

    Characters 1-2 (registration authority, organisation type) may be letters.
    The check character needs a weighted sum modulo 31 that SQL would have to
    re-implement; python-stdnum's ``stdnum.cn.uscc`` (a kept implementation)
    computes it in Python instead: ``edp.quality.uscc`` validates every code of the checked
    tables before the run and records the verdict in ``audit.credit_codes``.
    A code with no recorded verdict counts as invalid, so a skipped
    pre-computation fails loudly instead of passing.
    """
    query = (
        f"select {row_ref(keys, column, lineage=lineage)} from {{batch}} where {q(column)} is not null "
        f"and {q(column)} not in (select code from {CREDIT_CODES_TABLE} where is_valid)"
    )
    return unexpected_rows(
        f"{column}_valid",
        query,
        severity,
        Dimension.ACCURACY,
        f"{column} 为有效的统一社会信用代码（GB 32100-2015 第 4 章：字符集、区划码、校验码；首两位可为字母）",
        f"{column} is a valid unified social credit code (GB 32100-2015 clause 4: character set, division code, "
        "check character; characters 1-2 may be letters)",
        level=Level.ROW,
    )


def not_negative(*columns: str, severity: Severity = BLOCKING) -> list[Expectation]:
    """Counts and quantities that cannot be below zero."""
    return [between(c, 0, None, f"{c} 不为负", f"{c} is not negative", severity=severity) for c in columns]


def traced(rule_id: str, query: str, zh: str, en: str, *, severity: Severity = BLOCKING) -> Expectation:
    """A mart's rows trace back to raw or to another mart (a difference names the row, and the batch if known)."""
    return unexpected_rows(rule_id, query, severity, Dimension.CONSISTENCY, zh, en, level=Level.DATASET)
