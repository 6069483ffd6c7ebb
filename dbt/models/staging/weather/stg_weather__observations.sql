-- One row per station and hour: the newest updated_at wins, ties go to the
-- latest extraction. last_extracted_at (newest extraction of any version)
-- tells incremental marts which hours a new batch touched.
with

source as (
    select * from {{ source('weather', 'observations') }}
),

versions as (
    select
        *,
        max(_extracted_at) over (partition by station_id, obs_time) as last_extracted_at,
        count(*) over (partition by station_id, obs_time) as version_count
    from source
    where station_id is not null and obs_time is not null
),

latest as (
    select distinct on (station_id, obs_time) *
    from versions
    order by station_id, obs_time, updated_at desc nulls last, _extracted_at desc, _batch_id desc
),

renamed as (
    select
        station_id || '@' || to_char(obs_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as observation_id,
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
        _extracted_at as extracted_at,
        last_extracted_at,
        cast(version_count as integer) as version_count
    from latest
)

select * from renamed
