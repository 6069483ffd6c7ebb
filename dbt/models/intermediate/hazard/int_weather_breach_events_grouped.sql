-- One hazard event per (breach kind, division, hour) of the weather stations.
-- 大风 and 大雾 (int_weather_breaches_detected): located at the station with the
-- extreme value, reported when the first of its observations first reached the
-- threshold (any version), graded by how far past it. 暴雨
-- (int_weather_rain_windows_totalled): an hour at which a station's rainstorm
-- severity rose (a GB/T 28592-2012 level or a 中国气象局令第16号 signal criterion on
-- its rolling totals), located at the station with the highest threshold reached
-- (then the larger total), severity from ref_rainfall_thresholds.
with

breaches as (
    select
        station_id,
        obs_hour,
        division_code,
        division_name,
        lon,
        lat,
        observation_id as source_record_id,
        first_breached_at,
        breach_kind,
        category_code,
        threshold_ratio as extremity,
        0 as extremity_tiebreak,
        {{ severity_past_threshold('threshold_ratio') }} as severity,
        measure_text
    from {{ ref('int_weather_breaches_detected') }}
    union all
    select
        station_id,
        rain_hour,
        division_code,
        division_name,
        lon,
        lat,
        rain_window_id,
        reported_at,
        'rainstorm',
        '11B03',
        threshold_rank,
        threshold_total_mm,
        severity,
        {{ rain_window_text() }}
    from {{ ref('int_weather_rain_windows_totalled') }}
    where is_onset
),

ranked as (
    select
        *,
        row_number() over (
            partition by breach_kind, division_code, obs_hour
            order by extremity desc, extremity_tiebreak desc, station_id
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
        source_record_id,
        category_code,
        obs_hour as occurred_at,
        first_reported_at as reported_at,
        division_code,
        lon,
        lat,
        severity,
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
