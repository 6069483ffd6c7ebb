-- 河道超警: one event per station and episode of consecutive readings at or
-- above the warning stage WRZ (the guaranteed stage GRZ where a station has
-- no WRZ). Occurred at the first reading of the episode, reported when the
-- platform first extracted it (SL 323 has no write time); severity by the
-- peak: moderate, severe from halfway between WRZ and GRZ, extreme at ≥ GRZ.
-- Ongoing while the station's latest reading is still in the episode. The
-- episodes are the over runs of int_river_stage_runs (incremental).
{%- set severity -%}
case
    when episodes.peak_stage_m >= episodes.guaranteed_stage_m then 'extreme'
    when episodes.peak_stage_m >= (episodes.warning_stage_m + episodes.guaranteed_stage_m) / 2 then 'severe'
    else 'moderate'
end
{%- endset %}

with

runs as (
    select
        *,
        max(ended_at) over (partition by station_id) as latest_observed_at
    from {{ ref('int_river_stage_runs') }}
),

-- Episodes are the over runs (built incrementally in int_river_stage_runs); this model is a table over
-- them: few rows, and it follows the station master and the latest reading of each station.
episodes as (
    select
        station_id,
        started_at,
        last_stage_at as last_over_at,
        latest_observed_at,
        peak_stage_m,
        first_reported_at,
        warning_stage_m,
        guaranteed_stage_m
    from runs
    where is_over
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
