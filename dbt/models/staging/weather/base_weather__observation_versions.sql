-- Every version of every observation as loaded (renamed, typed): the
-- history stg_weather__observations deduplicates and breach detection reads
-- to find when a threshold was first reached.
with

source as (
    select * from {{ source('weather', 'observations') }}
),

renamed as (
    select
        station_id || '@' || {{ utc_timestamp_text('obs_time') }} as observation_id,
        station_id,
        obs_time as observed_at,
        temp_c,
        precip_1h_mm,
        wind_speed_ms,
        wind_gust_ms,
        wind_dir_deg,
        rh_pct,
        visibility_m,
        pressure_hpa,
        cast(qc as integer) as qc,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from source
    where station_id is not null and obs_time is not null
)

select * from renamed
