-- 暴雨 from the water bureau's rain gauges: one event per (division, local
-- hour) in which a gauge's hourly rainfall (ST_PPTN_R summed per hour) reached
-- var hazard_rainstorm_precip_1h_mm (50 mm), as for the weather stations.
-- Placed at the wettest gauge; reported when the platform first held every
-- period of the hour at a breaching gauge (SL 323 rows carry no write time);
-- graded by the weather severity ratios. A gauge missing from the station
-- master is placed at the county (and counted in int_hazard__unmapped_codes).
with

placed as (
    select
        hours.*,
        coalesce(stations.station_name, hours.station_id) as station_name,
        coalesce(stations.division_code, '210381000000') as division_code,
        stations.division_name,
        stations.lon,
        stations.lat
    from {{ ref('int_rain_hours_totalled') }} as hours
    left join {{ ref('int_water_stations_located') }} as stations on hours.station_id = stations.station_id
    where hours.rainfall_mm >= {{ var('hazard_rainstorm_precip_1h_mm') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by division_code, rain_hour order by rainfall_mm desc, station_id
        ) as wettest_rank,
        min(complete_extracted_at) over (partition by division_code, rain_hour) as first_reported_at,
        count(*) over (partition by division_code, rain_hour) as gauge_count
    from placed
),

events as (
    select
        'water-rainstorm-' || division_code || '-'
        || {{ local_hour_key('rain_hour') }} as event_id,
        'water' as source,
        'rainfall' as source_dataset,
        rain_hour_id as source_record_id,
        '11B03' as category_code,
        rain_hour as occurred_at,
        first_reported_at as reported_at,
        division_code,
        lon,
        lat,
        {{ severity_past_threshold('rainfall_mm', var('hazard_rainstorm_precip_1h_mm')) }} as severity,
        'observed' as status,
        concat_ws(
            ' ',
            division_name,
            {{ local_hour_label('rain_hour') }},
            station_name || '雨量站 1小时降水 ' || to_char(rainfall_mm, 'FM999990.0') || ' mm'
            || case when gauge_count > 1 then '（' || gauge_count || '站达暴雨）' else '' end
        ) as description,
        true as is_hazard_event
    from ranked
    where wettest_rank = 1
)

select * from events
