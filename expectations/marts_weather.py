"""Rules for ``marts.fct_weather_hourly_extremes``: one row per division and hour.

Physical limits come from the raw suite (``expectations.weather``) so the two
layers can never disagree about what is possible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.dimensions import Dimension, Severity, rule
from expectations.weather import FUTURE_TOLERANCE, PHYSICAL_LIMITS

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation

SUITE = "fct_weather_hourly_extremes"
DATASET = "marts.fct_weather_hourly_extremes"

COLUMNS = (
    "hourly_extreme_id",
    "division_code",
    "division_name",
    "obs_hour",
    "station_count",
    "obs_count",
    "max_precip_1h_mm",
    "max_wind_gust_ms",
    "min_visibility_m",
    "avg_temp_c",
    "updated_at",
    "source_extracted_at",
)

# 12-digit division codes of 海城市 (GB/T 2260 + town/village levels).
DIVISION_CODE_REGEX = r"^210381[0-9]{6}$"

# Mart column -> the raw measure whose physical limits apply.
MEASURES = {
    "max_precip_1h_mm": "precip_1h_mm",
    "max_wind_gust_ms": "wind_gust_ms",
    "min_visibility_m": "visibility_m",
    "avg_temp_c": "temp_c",
}


def hourly_extremes_suite() -> ExpectationSuite:
    from great_expectations import ExpectationSuite

    return ExpectationSuite(
        name=SUITE,
        expectations=[
            _columns_exist(),
            _division_code_format(),
            _one_row_per_division_hour(),
            *_measure_ranges(),
            _obs_hour_not_future(),
            _obs_hour_on_the_hour(),
            _obs_count_covers_stations(),
            _not_empty(),
        ],
        notes=["各辖区逐时气象极值（集市层）", "Hourly weather extremes per division (mart)"],
    )


def _columns_exist() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectTableColumnsToMatchSet(
        column_set=list(COLUMNS),
        exact_match=False,
        **rule(
            "columns_exist",
            Severity.BLOCKING,
            Dimension.CONFORMITY,
            "集市表契约规定的字段齐全",
            "every column of the mart's contract exists",
        ),
    )


def _division_code_format() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToMatchRegex(
        column="division_code",
        regex=DIVISION_CODE_REGEX,
        **rule(
            "division_code_format",
            Severity.BLOCKING,
            Dimension.CONFORMITY,
            "辖区代码为海城市（210381）的 12 位代码",
            "division_code is a 12-digit code inside Haicheng (210381)",
        ),
    )


def _one_row_per_division_hour() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=["division_code", "obs_hour"],
        **rule(
            "one_row_per_division_hour",
            Severity.BLOCKING,
            Dimension.ACCURACY,
            "每个辖区每小时只有一行",
            "one row per division and hour (the mart's grain)",
        ),
    )


def _measure_ranges() -> list[Expectation]:
    import great_expectations.expectations as gxe

    expectations: list[Expectation] = []
    for column, measure in MEASURES.items():
        low, high, zh, en = PHYSICAL_LIMITS[measure]
        expectations.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=low,
                max_value=high,
                **rule(
                    f"{column}_in_range",
                    Severity.BLOCKING,
                    Dimension.ACCURACY,
                    f"{column}（{zh}）在物理可能范围 {low}～{high} 内",
                    f"{column} ({en}) within the physically possible {low}..{high}",
                ),
            )
        )
    return expectations


def _obs_hour_not_future() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=(
            "select hourly_extreme_id, division_code, obs_hour from {batch} "
            f"where obs_hour > now() + interval '{FUTURE_TOLERANCE}'"
        ),
        **rule(
            "obs_hour_not_future",
            Severity.BLOCKING,
            Dimension.ACCURACY,
            "统计小时不晚于当前时间",
            "obs_hour is not in the future",
        ),
    )


def _obs_hour_on_the_hour() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=(
            "select hourly_extreme_id, obs_hour from {batch} where obs_hour <> date_trunc('hour', obs_hour)"
        ),
        **rule(
            "obs_hour_on_the_hour",
            Severity.WARNING,
            Dimension.CONFORMITY,
            "统计小时为整点",
            "obs_hour falls on the full hour",
        ),
    )


def _obs_count_covers_stations() -> Expectation:
    import great_expectations.expectations as gxe

    # Every station counted contributed at least one observation.
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="obs_count",
        column_B="station_count",
        or_equal=True,
        ignore_row_if="either_value_is_missing",
        **rule(
            "obs_count_covers_stations",
            Severity.WARNING,
            Dimension.CONSISTENCY,
            "观测条数不少于站点数",
            "obs_count is not below station_count",
        ),
    )


def _not_empty() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectTableRowCountToBeBetween(
        min_value=1,
        **rule("not_empty", Severity.WARNING, Dimension.COMPLETENESS, "表中有数据", "the table has rows"),
    )
