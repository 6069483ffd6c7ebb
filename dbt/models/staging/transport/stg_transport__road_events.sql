-- 路况事件 road events: the API returns changed records (and tombstones
-- once); the loader appends every version. One row per event: the newest
-- updated_at wins (ties: latest extraction); events whose latest version is
-- a tombstone (deleted) are removed. first_reported_at is the earliest
-- updated_at of any version: when the bureau first recorded the event.
-- Incremental (var incremental_lookback_hours): see the model's YAML.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='road_event_id',
        indexes=[{'columns': ['road_event_id'], 'unique': true}],
        pre_hook="{{ delete_touched(['road_event_id'], source('transport', 'road_events'), '_extracted_at',
            'last_extracted_at', var('incremental_lookback_hours'), ['event_id']) }}",
    )
}}

with

source as (
    select * from {{ source('transport', 'road_events') }}
    where event_id is not null
    {% if is_incremental() -%}
    and {{ touched_since_watermark(
        ['event_id'], source('transport', 'road_events'),
        '_extracted_at', 'last_extracted_at', var('incremental_lookback_hours')
    ) }}
    {%- endif %}
),

versions as (
    select
        *,
        min(updated_at) over (partition by event_id) as first_reported_at,
        count(*) over (partition by event_id) as version_count,
        max(_extracted_at) over (partition by event_id) as last_extracted_at
    from source
),

latest as (
    {{ latest_live_version_per('versions', ['event_id']) }}
),

renamed as (
    select
        event_id as road_event_id,
        type as road_event_type,
        nullif(trim(road_code), '') as road_code,
        stake_from,
        stake_to,
        direction,
        lon,
        lat,
        division_code,
        start_time as started_at,
        expected_end as expected_end_at,
        actual_end as ended_at,
        status as road_event_status,
        nullif(trim(detour), '') as detour,
        updated_at,
        first_reported_at,
        cast(version_count as integer) as version_count,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        last_extracted_at
    from latest
)

select * from renamed
