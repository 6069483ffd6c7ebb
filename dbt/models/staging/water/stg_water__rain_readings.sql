-- SL 323 ST_PPTN_R rainfall, one row per (station, TM): the bureau corrects
-- rows in place and uploads backlog late, so the loader appends every changed
-- row as a new version; the latest extraction wins. TM is the END of the
-- period; rain_hour is the local clock hour the period ends in (a 5-minute
-- period ending 02:00 belongs to 01:00–02:00).
-- Incremental (var incremental_lookback_hours): see the model's YAML.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='rain_reading_id',
        indexes=[
            {'columns': ['rain_reading_id'], 'unique': true},
            {'columns': ['last_extracted_at']},
            {'columns': ['station_id', 'rain_hour']},
        ],
    )
}}

with

source as (
    select * from {{ source('water', 'rainfall') }}
    {% if is_incremental() -%}
    where {{ touched_row_keys(
        source('water', 'rainfall'), 'last_extracted_at', var('incremental_lookback_hours')
    ) }}
    {%- endif %}
),

latest as (
    {{ sl323_latest_readings('source') }}
),

renamed as (
    select
        reading_id as rain_reading_id,
        station_id,
        tm as observed_at,
        date_trunc('hour', tm - interval '1 second', {{ local_time_zone() }}) as rain_hour,
        drp as rainfall_mm,
        intv as period_hours,
        pdr as rain_duration_hours,
        dyp as daily_rainfall_mm,
        nullif(trim(wth), '') as weather_code,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        first_extracted_at,
        last_extracted_at,
        version_count
    from latest
)

select * from renamed
