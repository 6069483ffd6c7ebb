-- 暴雨 from the water bureau's rain gauges: a gauge-hour at which the gauge's
-- rainstorm severity rose (int_rain_windows_totalled.is_onset: a rolling total reached
-- a GB/T 28592-2012 暴雨/大暴雨/特大暴雨 level or a 中国气象局令第16号 rainstorm-signal
-- criterion above the gauge's previous hour). One event per (division, local hour):
-- placed at the gauge with the highest threshold reached (then the larger total),
-- severity from ref_rainfall_thresholds (暴雨 and blue/yellow moderate, 大暴雨 and
-- orange severe, 特大暴雨 and red extreme), reported when the platform first held
-- every period of that hour at the gauge. A gauge missing from the station master is
-- placed at the county (and counted in int_hazard__unmapped_codes).
with

placed as (
    select
        windows.*,
        coalesce(stations.station_name, windows.station_id) as station_name,
        coalesce(stations.division_code, '210381000000') as division_code,
        stations.division_name,
        stations.lon,
        stations.lat
    from {{ ref('int_rain_windows_totalled') }} as windows
    left join {{ ref('int_water_stations_located') }} as stations on windows.station_id = stations.station_id
    where windows.is_onset
),

ranked as (
    select
        *,
        row_number() over (
            partition by division_code, rain_hour
            order by threshold_rank desc, threshold_total_mm desc, station_id
        ) as wettest_rank,
        min(reported_at) over (partition by division_code, rain_hour) as first_reported_at,
        count(*) over (partition by division_code, rain_hour) as gauge_count
    from placed
),

events as (
    select
        'water-rainstorm-' || division_code || '-'
        || {{ local_hour_key('rain_hour') }} as event_id,
        'water' as source,
        'rainfall' as source_dataset,
        rain_window_id as source_record_id,
        '11B03' as category_code,
        rain_hour as occurred_at,
        first_reported_at as reported_at,
        division_code,
        lon,
        lat,
        severity,
        'observed' as status,
        concat_ws(
            ' ',
            division_name,
            {{ local_hour_label('rain_hour') }},
            station_name || '雨量站 ' || {{ rain_window_text() }}
            || case when gauge_count > 1 then '（' || gauge_count || '站达暴雨）' else '' end
        ) as description,
        true as is_hazard_event
    from ranked
    where wettest_rank = 1
)

select * from events
