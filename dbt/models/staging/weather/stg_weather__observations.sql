-- One row per station and hour: the newest updated_at wins, ties go to the
-- latest extraction. last_extracted_at (newest extraction of any version)
-- tells incremental marts which hours a new batch touched.
with

versions as (
    select * from {{ ref('base_weather__observation_versions') }}
),

latest as (
    select distinct on (observation_id)
        *,
        max(extracted_at) over observation as last_extracted_at,
        cast(count(*) over observation as integer) as version_count
    from versions
    window observation as (partition by observation_id)
    order by observation_id, {{ newest_version_first(prefix='') }}
)

select * from latest
