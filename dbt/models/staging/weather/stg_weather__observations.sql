-- One row per station and hour: the newest updated_at wins, ties go to the
-- latest extraction. last_extracted_at (newest extraction of any version)
-- tells incremental marts which hours a new batch touched.
-- Incremental (var incremental_lookback_hours): see the model's YAML.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='observation_id',
        indexes=[{'columns': ['observation_id'], 'unique': true}],
    )
}}

with

versions as (
    select * from {{ ref('base_weather__observation_versions') }}
    {% if is_incremental() -%}
    where {{ touched_since_watermark(
        ['observation_id'], ref('base_weather__observation_versions'),
        'extracted_at', 'last_extracted_at', var('incremental_lookback_hours')
    ) }}
    {%- endif %}
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
