-- One hazard event per (breach kind, division, hour) of the weather
-- stations: located at the station with the extreme value, reported when the
-- first of its observations first reached the threshold (any version),
-- graded by how far past it. (Moved here from fct_hazard_event unchanged:
-- same event_id scheme, same figures.)
with

breaches as (
    select * from {{ ref('int_weather_breaches_detected') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by breach_kind, division_code, obs_hour
            order by threshold_ratio desc, station_id
        ) as extreme_rank,
        min(first_breached_at) over (partition by breach_kind, division_code, obs_hour) as first_reported_at
    from breaches
),

events as (
    select
        'weather-' || breach_kind || '-' || division_code || '-'
        || {{ local_hour_key('obs_hour') }} as event_id,
        'weather' as source,
        'observations' as source_dataset,
        observation_id as source_record_id,
        category_code,
        obs_hour as occurred_at,
        first_reported_at as reported_at,
        division_code,
        lon,
        lat,
        {{ severity_past_threshold('threshold_ratio') }} as severity,
        'observed' as status,
        concat_ws(
            ' ',
            division_name,
            {{ local_hour_label('obs_hour') }},
            measure_text
        ) as description,
        true as is_hazard_event
    from ranked
    where extreme_rank = 1
)

select * from events
