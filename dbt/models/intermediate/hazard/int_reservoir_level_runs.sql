-- Reservoir level runs: one row per reservoir and run of consecutive SL 323
-- readings on the same side of the flood-limit level FSLTDZ of the flood
-- season (SL 323-2011 ST_RSVRFSR_B, FSTP 1 主汛期 / 2 后汛期 / 3 过渡期) the
-- reading's local date falls in (BGMD–EDMD, MMDD, inclusive, wrapping past
-- New Year when BGMD > EDMD; where seasons overlap the lowest limit applies;
-- above is over), calm runs cut at local midnight. Readings without a level
-- or outside every flood season are not judged: FSTP 4 其他时期 (non-flood)
-- rows carry no flood limit. The over runs are
-- int_reservoir_breach_events_detected's episodes; the runs in between let
-- every reservoir's newest readings carry this model's watermark.
-- Incremental as int_river_stage_runs (macros/station_runs.sql): the runs
-- around the readings extracted after the watermark (less var
-- incremental_lookback_hours) are deleted and recomputed whole; a reservoir
-- whose flood limits changed (flood_limits_digest) is recomputed whole.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='run_id',
        pre_hook="{{ delete_touched_station_runs(
            ref('stg_water__reservoir_readings'),
            station_thresholds_changed(reservoir_run_limits(), ['flood_limits_digest']),
            var('incremental_lookback_hours')
        ) }}",
    )
}}

with

limits as (
    select * from {{ ref('stg_water__reservoir_flood_limits') }}
    where is_flood_season and flood_limit_level_m is not null
),

digests as (
    select * from {{ reservoir_run_limits() }} as digests
),

{% if is_incremental() -%}
gaps as (
    {{ station_run_gaps(ref('stg_water__reservoir_readings'), 'digests', var('incremental_lookback_hours')) | indent(4) }}
),

{% endif -%}
local_readings as (
    select
        readings.*,
        to_char(readings.observed_at at time zone {{ local_time_zone() }}, 'MMDD') as observed_mmdd
    from {{ ref('stg_water__reservoir_readings') }} as readings
    {%- if is_incremental() %}
    inner join gaps
        on
            readings.station_id = gaps.station_id
            and readings.observed_at > gaps.gap_after
            and readings.observed_at < gaps.gap_before
    {%- endif %}
    where readings.level_m is not null
),

readings as (
    select
        readings.station_id,
        readings.observed_at,
        readings.level_m,
        readings.first_extracted_at,
        readings.last_extracted_at,
        min(limits.flood_limit_level_m) as flood_limit_level_m
    from local_readings as readings
    inner join limits
        on
            readings.station_id = limits.station_id
            and {{ mmdd_in_period('readings.observed_mmdd', 'limits.season_begin_mmdd', 'limits.season_end_mmdd')
                | indent(12) }}
    group by
        readings.station_id, readings.observed_at, readings.level_m, readings.first_extracted_at,
        readings.last_extracted_at
),

sided as (
    select
        *,
        level_m > flood_limit_level_m as is_over,
        {{ local_date('observed_at') }} as local_day
    from readings
),

numbered as (
    {{ station_run_numbers('sided', 'is_over') | indent(4) }}
)

select
    numbered.station_id || '@' || {{ utc_timestamp_text('min(numbered.observed_at)') }} as run_id,
    numbered.station_id,
    min(numbered.observed_at) as started_at,
    max(numbered.observed_at) as ended_at,
    bool_or(numbered.is_over) as is_over,
    max(numbered.level_m - numbered.flood_limit_level_m) as peak_excess_m,
    max(numbered.level_m) as peak_level_m,
    (array_agg(numbered.flood_limit_level_m order by numbered.observed_at))[1] as flood_limit_level_m,
    (array_agg(numbered.first_extracted_at order by numbered.observed_at))[1] as first_reported_at,
    max(digests.flood_limits_digest) as flood_limits_digest,
    cast(count(*) as integer) as reading_count,
    max(numbered.last_extracted_at) as source_extracted_at
from numbered
inner join digests on numbered.station_id = digests.station_id
group by numbered.station_id, numbered.run_no
