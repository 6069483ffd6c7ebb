"""气象局 weather bureau: rules for ``raw.weather__observations``.

Raw is append-only per load batch: a re-read hour appears again in the next
batch, so keys are unique per ``_batch_id``, not overall. Missing values are
NULL (the connector turns the bureau's 999999 into NULL), so a leaked
sentinel fails the physical ranges below.

Physical ranges skip rows the bureau itself flagged ``qc = 2`` (wrong): raw
keeps what the bureau sent, and such a row is the bureau's known error, not
ours to fix (staging decides what to do with it).

Freshness is not checked here: the dbt source declares it (``loaded_at_field:
_extracted_at``), and each rule lives in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.dimensions import Dimension, Severity, rule

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation
    from great_expectations.expectations.row_conditions import Condition

SUITE = "weather__observations"
DATASET = "raw.weather__observations"

COLUMNS = (
    "station_id",
    "obs_time",
    "temp_c",
    "precip_1h_mm",
    "wind_speed_ms",
    "wind_gust_ms",
    "wind_dir_deg",
    "rh_pct",
    "visibility_m",
    "pressure_hpa",
    "qc",
    "updated_at",
    "_extra",
    "_batch_id",
    "_extracted_at",
    "_source",
)

# Physically possible values in 海城市 (also used by the mart suite): column -> (min, max, zh, en).
PHYSICAL_LIMITS: dict[str, tuple[float, float, str, str]] = {
    "temp_c": (-50, 50, "气温", "air temperature (°C)"),
    "precip_1h_mm": (0, 200, "1小时降水量", "precipitation in the past hour (mm)"),
    "wind_speed_ms": (0, 75, "10分钟平均风速", "10-minute mean wind speed (m/s)"),
    "wind_gust_ms": (0, 75, "小时极大风速", "max gust in the hour (m/s)"),
    "wind_dir_deg": (0, 360, "风向", "wind direction (°)"),
    "rh_pct": (0, 100, "相对湿度", "relative humidity (%)"),
    "visibility_m": (0, 100_000, "能见度", "visibility (m)"),
    "pressure_hpa": (500, 1100, "本站气压", "station pressure (hPa)"),
}

QC_CODES = (0, 1, 2, 9)  # 0 checked, 1 suspect, 2 wrong, 9 missing (weather.md)
QC_WRONG = 2
# Clock skew allowed between the bureau and us before an obs_time counts as "in the future".
FUTURE_TOLERANCE = "15 minutes"


def observations_suite() -> ExpectationSuite:
    from great_expectations import ExpectationSuite

    return ExpectationSuite(
        name=SUITE,
        expectations=[
            _columns_exist(),
            *_keys_present(),
            _unique_per_batch(),
            _obs_time_not_future(),
            *_physical_ranges(),
            _qc_codes(),
            _station_id_format(),
            _gust_not_below_mean(),
            _not_empty(),
        ],
        notes=["气象局逐时观测（原始层，按批次追加）", "Weather bureau hourly observations (raw, appended per batch)"],
    )


def _columns_exist() -> Expectation:
    import great_expectations.expectations as gxe

    # exact_match=False: the loader adds columns on schema drift, it never drops one.
    return gxe.ExpectTableColumnsToMatchSet(
        column_set=list(COLUMNS),
        exact_match=False,
        **rule(
            "columns_exist",
            Severity.BLOCKING,
            Dimension.CONFORMITY,
            "接口文档规定的字段齐全",
            "every column of the interface document exists",
        ),
    )


def _keys_present() -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column=column,
            **rule(
                f"{column}_not_null",
                Severity.BLOCKING,
                Dimension.COMPLETENESS,
                f"主键字段 {column} 不为空",
                f"key column {column} is never null",
            ),
        )
        for column in ("station_id", "obs_time")
    ]


def _unique_per_batch() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=["station_id", "obs_time", "_batch_id"],
        **rule(
            "unique_per_batch",
            Severity.BLOCKING,
            Dimension.ACCURACY,
            "同一批次内（站号, 观测时间）不重复",
            "(station_id, obs_time) is unique within a load batch",
        ),
    )


def _obs_time_not_future() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=(
            "select station_id, obs_time, _batch_id from {batch} "
            f"where obs_time > now() + interval '{FUTURE_TOLERANCE}'"
        ),
        **rule(
            "obs_time_not_future",
            Severity.BLOCKING,
            Dimension.ACCURACY,
            f"观测时间不晚于当前时间（容差 {FUTURE_TOLERANCE}）",
            f"obs_time is not in the future (tolerance {FUTURE_TOLERANCE})",
        ),
    )


def _not_flagged_wrong() -> Condition:
    from great_expectations.expectations.row_conditions import Column

    return Column("qc").is_null() | (Column("qc") != QC_WRONG)


def _physical_ranges() -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeBetween(
            column=column,
            min_value=low,
            max_value=high,
            row_condition=_not_flagged_wrong(),
            **rule(
                f"{column}_in_range",
                Severity.BLOCKING,
                Dimension.ACCURACY,
                f"{zh}在物理可能范围 {low}～{high} 内（质控码为 2 的行除外）",
                f"{en} within the physically possible {low}..{high} (rows with qc = 2 excepted)",
            ),
        )
        for column, (low, high, zh, en) in PHYSICAL_LIMITS.items()
    ]


def _qc_codes() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToBeInSet(
        column="qc",
        value_set=list(QC_CODES),
        **rule(
            "qc_known_code",
            Severity.BLOCKING,
            Dimension.CONFORMITY,
            "质控码属于 {0 已检, 1 可疑, 2 错误, 9 缺测}",
            "qc is one of 0 checked, 1 suspect, 2 wrong, 9 missing",
        ),
    )


def _station_id_format() -> Expectation:
    import great_expectations.expectations as gxe

    # A new kind of station is news, not an error: warn only.
    return gxe.ExpectColumnValuesToMatchRegex(
        column="station_id",
        regex=r"^([0-9]{5}|[A-Z][0-9]{4})$",
        **rule(
            "station_id_format",
            Severity.WARNING,
            Dimension.CONFORMITY,
            "站号为 5 位数字（国家站）或 1 个字母加 4 位数字（区域站）",
            "station_id is 5 digits (national) or a letter and 4 digits (regional)",
        ),
    )


def _gust_not_below_mean() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="wind_gust_ms",
        column_B="wind_speed_ms",
        or_equal=True,
        ignore_row_if="either_value_is_missing",
        row_condition=_not_flagged_wrong(),
        **rule(
            "gust_not_below_mean_wind",
            Severity.WARNING,
            Dimension.CONSISTENCY,
            "极大风速不小于平均风速",
            "max gust is not below the mean wind speed",
        ),
    )


def _not_empty() -> Expectation:
    import great_expectations.expectations as gxe

    return gxe.ExpectTableRowCountToBeBetween(
        min_value=1,
        **rule("not_empty", Severity.WARNING, Dimension.COMPLETENESS, "表中有数据", "the table has rows"),
    )
