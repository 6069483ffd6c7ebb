-- Rolling 1/3/6/12/24-hour rainfall per rain gauge, graded by ref_rainfall_thresholds
-- (macro rain_windows_classified): GB/T 28592-2012 levels, the 中国气象局令第16号
-- rainstorm-signal criteria and 短时强降水. One row per reported gauge-hour of
-- int_rain_hours_totalled; hours a gauge did not report count as 0 mm.
-- Incremental and linear: the gauge-hours touched since the watermark (less var
-- hazard_lookback_hours) are joined into spans per gauge; each span's hours and the
-- 48 after it are recomputed (a late hour changes the 23 windows after it, and the
-- onset of the next reported hour), reading the 48 hours before the span as well.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='rain_window_id',
        indexes=[{'columns': ['source_extracted_at']}],
    )
}}

with

{% if is_incremental() -%}
touched as (
    select
        station_id,
        rain_hour,
        lag(rain_hour) over (partition by station_id order by rain_hour) as previous_touched
    from {{ ref('int_rain_hours_totalled') }}
    where source_extracted_at > {{ watermark_since('source_extracted_at', var('hazard_lookback_hours')) }}
),

-- Touched hours more than 96 hours apart start a new span (their read ranges never overlap).
spans as (
    select
        station_id,
        min(rain_hour) as first_hour,
        max(rain_hour) + interval '48 hours' as last_hour
    from (
        select
            *,
            count(*) filter (
                where previous_touched is null or rain_hour - previous_touched > interval '96 hours'
            ) over (partition by station_id order by rain_hour) as span_number
        from touched
    ) as numbered
    group by station_id, span_number
),

hours as (
    select
        span_hours.*,
        spans.first_hour
    from spans
    cross join lateral (
        select
            totalled.station_id,
            totalled.rain_hour,
            totalled.rainfall_mm,
            totalled.complete_extracted_at as reported_at,
            totalled.source_extracted_at
        from {{ ref('int_rain_hours_totalled') }} as totalled
        where
            totalled.station_id = spans.station_id
            and totalled.rain_hour between spans.first_hour - interval '48 hours' and spans.last_hour
    ) as span_hours
),

{% else -%}
hours as (
    select
        station_id,
        rain_hour,
        rainfall_mm,
        complete_extracted_at as reported_at,
        source_extracted_at,
        cast(null as timestamptz) as first_hour
    from {{ ref('int_rain_hours_totalled') }}
),

{% endif -%}
{{ rain_windows_classified('hours', carry=['first_hour']) }}

select
    station_id || '@' || {{ local_hour_key('rain_hour') }} as rain_window_id,
    station_id,
    rain_hour,
    {{ rain_window_columns() }}
from graded
where first_hour is null or rain_hour >= first_hour
