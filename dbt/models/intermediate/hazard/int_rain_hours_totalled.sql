-- Rainfall per station and local clock hour, summed from ST_PPTN_R periods of
-- at most one hour (longer periods, e.g. daily rows, cannot be placed in an
-- hour). Incremental: every (station, hour) with a reading extracted after
-- the newest source_extracted_at here (less var hazard_lookback_hours) is
-- recomputed in full, so corrections and backlog uploads update old hours.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='rain_hour_id',
        indexes=[{'columns': ['station_id', 'rain_hour']}, {'columns': ['source_extracted_at']}],
    )
}}

with

{% if is_incremental() -%}
touched_hours as (
    select distinct
        station_id,
        rain_hour
    from {{ ref('stg_water__rain_readings') }}
    where last_extracted_at > {{ watermark_since('source_extracted_at', var('hazard_lookback_hours')) }}
),

-- A lateral lookup per touched hour (the staging model's (station_id, rain_hour) index): as a
-- semi-join, PostgreSQL misjudges how few hours are touched and walks the whole index.
readings as (
    select hour_readings.*
    from touched_hours
    cross join lateral (
        select *
        from {{ ref('stg_water__rain_readings') }} as readings
        where
            readings.station_id = touched_hours.station_id
            and readings.rain_hour = touched_hours.rain_hour
            and readings.period_hours <= 1
    ) as hour_readings
),

{% else -%}
readings as (
    select * from {{ ref('stg_water__rain_readings') }}
    where period_hours <= 1
),

{% endif -%}
hourly as (
    select
        station_id || '@' || {{ local_hour_key('rain_hour') }} as rain_hour_id,
        station_id,
        rain_hour,
        cast(round(cast(sum(rainfall_mm) as numeric), 1) as double precision) as rainfall_mm,
        cast(count(*) as integer) as period_count,
        max(first_extracted_at) as complete_extracted_at,
        max(last_extracted_at) as source_extracted_at
    from readings
    group by station_id, rain_hour
)

select * from hourly
