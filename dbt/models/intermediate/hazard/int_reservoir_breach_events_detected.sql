-- 水库超汛限: one event per reservoir and episode of consecutive readings
-- above the flood-limit level FSLTDZ of the flood season (SL 323-2011
-- ST_RSVRFSR_B, FSTP 1–3) the reading's local date falls in (BGMD–EDMD,
-- MMDD, inclusive, wrapping past New Year when BGMD > EDMD; where seasons
-- overlap the lowest limit applies). Outside every flood season (FSTP 4
-- 其他时期) there is no flood limit and no breach. Occurred at the first reading
-- above, reported when the platform first extracted it; severity by the peak
-- excess over the limit (vars hazard_reservoir_severe_excess_m / _extreme_).
-- The episodes are the over runs of int_reservoir_level_runs (incremental).
{%- set severity -%}
case
    when episodes.peak_excess_m >= {{ var('hazard_reservoir_extreme_excess_m') }} then 'extreme'
    when episodes.peak_excess_m >= {{ var('hazard_reservoir_severe_excess_m') }} then 'severe'
    else 'moderate'
end
{%- endset %}

with

runs as (
    select
        *,
        max(ended_at) over (partition by station_id) as latest_observed_at
    from {{ ref('int_reservoir_level_runs') }}
),

-- Episodes are the over runs (built incrementally in int_reservoir_level_runs); this model is a table over
-- them: few rows, and it follows the station master and the latest reading of each reservoir.
episodes as (
    select
        station_id,
        started_at,
        ended_at as last_over_at,
        latest_observed_at,
        peak_excess_m,
        peak_level_m,
        flood_limit_level_m,
        first_reported_at
    from runs
    where is_over
)

select
    {{ water_station_event_columns('reservoir', severity) }},
    concat_ws(
        ' ',
        stations.division_name,
        coalesce(stations.station_name, episodes.station_id),
        {{ local_hour_label('episodes.started_at') }} || '起库水位超汛限'
        || '（峰值 ' || to_char(episodes.peak_level_m, 'FM99990.00') || ' m，汛限 '
        || to_char(episodes.flood_limit_level_m, 'FM99990.00') || ' m）'
    ) as description,
    true as is_hazard_event
from episodes
left join {{ ref('int_water_stations_located') }} as stations on episodes.station_id = stations.station_id
