-- 河道超警: one event per station and episode of consecutive readings at or
-- above the warning stage WRZ (the guaranteed stage GRZ where a station has
-- no WRZ). Occurred at the first reading of the episode, reported when the
-- platform first extracted it (SL 323 has no write time); severity by the
-- peak: moderate, severe from halfway between WRZ and GRZ, extreme at ≥ GRZ.
-- Ongoing while the station's latest reading is still in the episode.
{%- set severity -%}
case
    when episodes.peak_stage_m >= episodes.guaranteed_stage_m then 'extreme'
    when episodes.peak_stage_m >= (episodes.warning_stage_m + episodes.guaranteed_stage_m) / 2 then 'severe'
    else 'moderate'
end
{%- endset %}

with

readings as (
    select
        readings.*,
        thresholds.warning_stage_m,
        thresholds.guaranteed_stage_m,
        readings.stage_m >= coalesce(thresholds.warning_stage_m, thresholds.guaranteed_stage_m) as is_over,
        max(readings.observed_at) over (partition by readings.station_id) as latest_observed_at
    from {{ ref('stg_water__river_readings') }} as readings
    inner join {{ ref('stg_water__river_thresholds') }} as thresholds
        on readings.station_id = thresholds.station_id
    where coalesce(thresholds.warning_stage_m, thresholds.guaranteed_stage_m) is not null
),

islands as (
    select
        *,
        -- Readings of one episode share the count of non-breaching readings before them.
        count(*) filter (where not is_over) over (partition by station_id order by observed_at) as episode_no
    from readings
    where stage_m is not null
),

episodes as (
    select
        station_id,
        episode_no,
        min(observed_at) as started_at,
        max(observed_at) as last_over_at,
        max(latest_observed_at) as latest_observed_at,
        max(stage_m) as peak_stage_m,
        (array_agg(first_extracted_at order by observed_at))[1] as first_reported_at,
        max(warning_stage_m) as warning_stage_m,
        max(guaranteed_stage_m) as guaranteed_stage_m
    from islands
    where is_over
    group by station_id, episode_no
)

select
    {{ water_station_event_columns('river', severity) }},
    concat_ws(
        ' ',
        stations.division_name,
        concat_ws('', stations.river_name, coalesce(stations.station_name, episodes.station_id), '站'),
        {{ local_hour_label('episodes.started_at') }} || '起水位超'
        || case when episodes.warning_stage_m is null then '保证' else '警戒' end
        || '（峰值 ' || to_char(episodes.peak_stage_m, 'FM99990.00') || ' m，警戒 '
        || coalesce(to_char(episodes.warning_stage_m, 'FM99990.00'), '—') || ' m，保证 '
        || coalesce(to_char(episodes.guaranteed_stage_m, 'FM99990.00'), '—') || ' m）'
    ) as description,
    true as is_hazard_event
from episodes
left join {{ ref('int_water_stations_located') }} as stations on episodes.station_id = stations.station_id
