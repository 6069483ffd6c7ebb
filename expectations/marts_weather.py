"""Rules for ``marts.fct_weather_hourly_extremes``: one row per division and hour.

Where each rule lives: dbt tests the key (``hourly_extreme_id`` unique and
not null, which is the grain division × hour), ``division_code`` against
``ref_divisions`` and ``obs_hour`` not null; the contract is enforced when dbt
builds (and GX checks the published table has its columns, ``expectations.marts``).
GX adds what dbt does not: physical limits (taken from the raw suite,
so the layers never disagree), time rules, and the trace back to raw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.dimensions import Dimension
from expectations.marts import Contract, mart_suites
from expectations.reference import FUTURE_TOLERANCE
from expectations.rules import BLOCKING, WARNING, between, not_before, unexpected_rows
from expectations.weather import PHYSICAL_LIMITS

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

MODEL = "fct_weather_hourly_extremes"
DATASET = f"marts.{MODEL}"

# Mart column -> the raw measure whose physical limits apply.
MEASURES = {
    "max_precip_1h_mm": "precip_1h_mm",
    "max_wind_gust_ms": "wind_gust_ms",
    "min_visibility_m": "visibility_m",
    "avg_temp_c": "temp_c",
}


def hourly_extremes(contract: Contract) -> list[Expectation]:
    return [
        *_measure_ranges(),
        _obs_hour_not_future(),
        _obs_hour_on_the_hour(),
        not_before(
            "obs_count",
            "station_count",
            "观测条数不少于站点数",
            "obs_count is not below station_count",
            rule_id="obs_count_covers_stations",
        ),
        _traced_to_raw(),
    ]


def _measure_ranges() -> list[Expectation]:
    expectations: list[Expectation] = []
    for column, measure in MEASURES.items():
        low, high, zh, en = PHYSICAL_LIMITS[measure]
        expectations.append(
            between(
                column,
                low,
                high,
                f"{column}（{zh}）在物理可能范围 {low}～{high} 内",
                f"{column} ({en}) within the physically possible {low}..{high}",
            )
        )
    return expectations


def _obs_hour_not_future() -> Expectation:
    return unexpected_rows(
        "obs_hour_not_future",
        "select hourly_extreme_id, division_code, obs_hour from {batch} "
        f"where obs_hour > now() + interval '{FUTURE_TOLERANCE}'",
        BLOCKING,
        Dimension.ACCURACY,
        "统计小时不晚于当前时间",
        "obs_hour is not in the future",
    )


def _obs_hour_on_the_hour() -> Expectation:
    return unexpected_rows(
        "obs_hour_on_the_hour",
        "select hourly_extreme_id, obs_hour from {batch} where obs_hour <> date_trunc('hour', obs_hour)",
        WARNING,
        Dimension.CONFORMITY,
        "统计小时为整点",
        "obs_hour falls on the full hour",
    )


# Observations in raw the mart must have counted: every key first extracted up to the mart's watermark,
# of a station in any stations snapshot, placed in the division of the station's newest listing.
_LOCATED = (
    "with watermark as (select max(source_extracted_at) as at from {batch} w), "
    "stations as (select distinct on (station_id) station_id, division_code from raw.weather__stations "
    "where station_id is not null order by station_id, _extracted_at desc, _batch_id desc), "
    "observations as (select station_id, obs_time, min(_batch_id) as first_batch_id from raw.weather__observations "
    "where station_id is not null and obs_time is not null group by station_id, obs_time "
    "having min(_extracted_at) <= (select at from watermark)), "
    "located as (select s.division_code, date_trunc('hour', o.obs_time, 'Asia/Shanghai') as obs_hour, "
    "count(*) as raw_obs_count, min(o.first_batch_id) as _batch_id from observations o "
    "join stations s on s.station_id = o.station_id group by 1, 2) "
)


def _traced_to_raw() -> Expectation:
    query = (
        _LOCATED + "select coalesce(m.hourly_extreme_id, l.division_code || ' ' || l.obs_hour) as hourly_extreme_id, "
        "m.obs_count, l.raw_obs_count, l._batch_id from {batch} m "
        "full join located l on l.division_code = m.division_code and l.obs_hour = m.obs_hour "
        "where m.obs_count is distinct from l.raw_obs_count"
    )
    return unexpected_rows(
        "obs_count_traced_to_raw",
        query,
        BLOCKING,
        Dimension.CONSISTENCY,
        "可追溯到原始层：每个镇街小时的观测条数等于原始层中已定位（站点在站点表中）的观测数（截至本表增量水位）",
        "traced to raw: each division-hour's obs_count equals the located raw observations "
        "(stations in the station list) up to the mart's watermark",
    )


SUITES = mart_suites({MODEL: ("各镇街逐时气象极值 hourly weather extremes per division", hourly_extremes)})
