-- One row per station and hour: the newest updated_at wins, ties go to the
-- latest extraction. last_extracted_at (newest extraction of any version)
-- tells incremental marts which hours a new batch touched.
with

versions as (
    select
        *,
        max(extracted_at) over (partition by observation_id) as last_extracted_at,
        count(*) over (partition by observation_id) as version_count
    from {{ ref('base_weather__observation_versions') }}
),

latest as (
    select distinct on (observation_id) *
    from versions
    order by observation_id, updated_at desc nulls last, extracted_at desc, batch_id desc
),

final as (
    select
        observation_id,
        station_id,
        observed_at,
        temp_c,
        precip_1h_mm,
        wind_speed_ms,
        wind_gust_ms,
        wind_dir_deg,
        rh_pct,
        visibility_m,
        pressure_hpa,
        qc,
        updated_at,
        batch_id,
        extracted_at,
        last_extracted_at,
        cast(version_count as integer) as version_count
    from latest
)

select * from final
