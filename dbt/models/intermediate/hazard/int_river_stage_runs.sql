-- River stage runs: one row per station and run of consecutive SL 323
-- readings on the same side of the warning stage WRZ (the guaranteed stage
-- GRZ where a station has no WRZ; at or above is over), calm runs cut at
-- local midnight. A reading without a stage keeps the side of the reading
-- before it (it neither starts nor ends an episode). The over runs are int_river_breach_events_detected's
-- episodes; the runs in between let every station's newest readings, calm
-- or not, carry this model's watermark.
-- Incremental (macros/station_runs.sql): per station with readings
-- extracted after the watermark (max source_extracted_at, less var
-- incremental_lookback_hours), the pre_hook deletes the runs from the one
-- before the first touched reading to the one after the last, and they are
-- recomputed from the readings between the runs left, so a correction that
-- extends, splits, merges or removes an episode rebuilds it whole; a
-- station whose thresholds changed is recomputed whole.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='run_id',
        pre_hook="{{ delete_touched_station_runs(
            ref('stg_water__river_readings'),
            station_thresholds_changed(river_run_thresholds(), ['warning_stage_m', 'guaranteed_stage_m']),
            var('incremental_lookback_hours')
        ) }}",
    )
}}

with

thresholds as (
    select * from {{ river_run_thresholds() }} as thresholds
),

{% if is_incremental() -%}
gaps as (
    {{ station_run_gaps(ref('stg_water__river_readings'), 'thresholds', var('incremental_lookback_hours')) | indent(4) }}
),

{% endif -%}
readings as (
    select
        readings.station_id,
        readings.observed_at,
        readings.stage_m,
        readings.first_extracted_at,
        readings.last_extracted_at,
        thresholds.warning_stage_m,
        thresholds.guaranteed_stage_m,
        readings.stage_m >= coalesce(thresholds.warning_stage_m, thresholds.guaranteed_stage_m) as is_over
    from {{ ref('stg_water__river_readings') }} as readings
    inner join thresholds on readings.station_id = thresholds.station_id
    {%- if is_incremental() %}
    inner join gaps
        on
            readings.station_id = gaps.station_id
            and readings.observed_at > gaps.gap_after
            and readings.observed_at < gaps.gap_before
    {%- endif %}
),

staged as (
    select
        *,
        -- Readings from one stage to the next share the count of stages up to them.
        count(stage_m) over (partition by station_id order by observed_at) as stage_no,
        {{ local_date('observed_at') }} as local_day
    from readings
),

sided as (
    select
        *,
        coalesce(bool_or(is_over) over (partition by station_id, stage_no), false) as run_is_over
    from staged
),

numbered as (
    {{ station_run_numbers('sided', 'run_is_over') | indent(4) }}
)

select
    station_id || '@' || {{ utc_timestamp_text('min(observed_at)') }} as run_id,
    station_id,
    min(observed_at) as started_at,
    max(observed_at) as ended_at,
    bool_or(run_is_over) as is_over,
    max(observed_at) filter (where stage_m is not null) as last_stage_at,
    max(stage_m) as peak_stage_m,
    (array_agg(first_extracted_at order by observed_at))[1] as first_reported_at,
    max(warning_stage_m) as warning_stage_m,
    max(guaranteed_stage_m) as guaranteed_stage_m,
    cast(count(*) as integer) as reading_count,
    max(last_extracted_at) as source_extracted_at
from numbered
group by station_id, run_no
