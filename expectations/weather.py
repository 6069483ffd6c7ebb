"""气象局 weather bureau: rules for ``raw.weather__stations``, ``__observations``, ``__warnings``.

Beyond the rules every raw dataset gets (``expectations.raw``): physical
ranges, code lists, the station's place, and times that have happened.

Physical ranges skip rows the bureau itself flagged ``qc = 2`` (wrong): raw
keeps what the bureau sent, and such a row is the bureau's known error, not
ours to fix (staging nulls its values). Missing values are NULL (the connector
turns the bureau's 999999 into NULL), so a leaked sentinel fails the ranges.

Observations of stations missing from the station list are counted by a dbt
test on staging, not here (one home per rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.schema import Dataset
from connectors.weather.cap import SIGNALS
from connectors.weather.source import OBSERVATIONS, STATIONS, WARNINGS
from expectations.dimensions import Dimension, rule
from expectations.raw import RawSpec, raw_suites
from expectations.reference import FUTURE_TOLERANCE
from expectations.rules import (
    BLOCKING,
    WARNING,
    between,
    division_code_known,
    division_codes_known_json,
    in_set,
    located_in_haicheng,
    matches,
    not_before,
    not_future,
)

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation
    from great_expectations.expectations.row_conditions import Condition

SOURCE = "weather"
DATASET = "raw.weather__observations"

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
STATION_ID_REGEX = r"^([0-9]{5}|[A-Z][0-9]{4})$"
# 海城市's stations stand between the Liao river plain (~5 m) and the eastern hills (~1,000 m).
ALTITUDE_M = (-10, 1500)

__all__ = ["DATASET", "FUTURE_TOLERANCE", "PHYSICAL_LIMITS", "SUITES"]


def _station_id_format() -> Expectation:
    # A new kind of station is news, not an error: warn only.
    return matches(
        "station_id",
        STATION_ID_REGEX,
        "站号为 5 位数字（国家站）或 1 个字母加 4 位数字（区域站）",
        "station_id is 5 digits (national) or a letter and 4 digits (regional)",
    )


def stations(ds: Dataset) -> list[Expectation]:
    low, high = ALTITUDE_M
    return [
        _station_id_format(),
        division_code_known("division_code"),
        located_in_haicheng(ds.primary_key),
        between("altitude_m", low, high, f"海拔在 {low}～{high} m 内", f"altitude within {low}..{high} m"),
        in_set("kind", ("national", "regional"), "站点类型为 national 或 regional", "kind is national or regional"),
    ]


def _not_flagged_wrong() -> Condition:
    from great_expectations.expectations.row_conditions import Column

    return Column("qc").is_null() | (Column("qc") != QC_WRONG)


def _physical_ranges() -> list[Expectation]:
    return [
        between(
            column,
            low,
            high,
            f"{zh}在物理可能范围 {low}～{high} 内（质控码为 2 的行除外）",
            f"{en} within the physically possible {low}..{high} (rows with qc = 2 excepted)",
            condition=_not_flagged_wrong(),
        )
        for column, (low, high, zh, en) in PHYSICAL_LIMITS.items()
    ]


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
            WARNING,
            Dimension.CONSISTENCY,
            "极大风速不小于平均风速",
            "max gust is not below the mean wind speed",
        ),
    )


def observations(ds: Dataset) -> list[Expectation]:
    return [
        not_future(ds.primary_key, "obs_time"),
        *_physical_ranges(),
        in_set(
            "qc",
            QC_CODES,
            "质控码属于 {0 已检, 1 可疑, 2 错误, 9 缺测}",
            "qc is one of 0 checked, 1 suspect, 2 wrong, 9 missing",
            rule_id="qc_known_code",
            severity=BLOCKING,
        ),
        _station_id_format(),
        _gust_not_below_mean(),
        not_before("updated_at", "obs_time", "更新时间不早于观测时间", "updated_at is not before obs_time"),
    ]


def warnings(ds: Dataset) -> list[Expectation]:
    keys = ds.primary_key
    return [
        not_future(keys, "sent_at"),
        in_set(
            "profile",
            ("national", "oasis"),
            "CAP 规范为 national 或 oasis",
            "profile is national or oasis",
            severity=BLOCKING,
        ),
        in_set(
            "msg_type",
            ("Alert", "Update", "Cancel"),
            "类型为 Alert / Update / Cancel",
            "msg_type is Alert, Update or Cancel",
            severity=BLOCKING,
        ),
        in_set(
            "status",
            ("Actual", "Exercise", "System", "Test", "Draft"),
            "状态为 CAP 规定的取值",
            "status is a CAP status",
        ),
        in_set(
            "severity_colour",
            ("Blue", "Yellow", "Orange", "Red"),
            "预警级别为蓝、黄、橙、红",
            "severity_colour is Blue, Yellow, Orange or Red",
        ),
        in_set(
            "signal",
            SIGNALS,
            "预警信号为中国气象局令第16号规定的 14 种之一",
            "signal is one of the 14 signals of CMA Order No. 16",
        ),
        matches(
            "event_type_code",
            r"^[0-9]{2}[A-Z][0-9]{2}$",
            "事件类型代码形如 11B03（GB/T 35965.1）",
            "event_type_code looks like 11B03 (GB/T 35965.1)",
        ),
        division_codes_known_json(keys, "division_codes"),
        not_before("expires_at", "effective_at", "失效时间不早于生效时间", "expires_at is not before effective_at"),
    ]


SUITES = raw_suites(
    SOURCE,
    {"stations": STATIONS, "observations": OBSERVATIONS, "warnings": WARNINGS},
    {
        "stations": RawSpec(stations),
        "observations": RawSpec(observations),
        "warnings": RawSpec(warnings),
    },
)
