-- 水库超汛限: one event per reservoir and episode of consecutive readings
-- above the flood-limit level FSLTDZ of the season the reading's local date
-- falls in (BGMD–EDMD, MMDD, wrapping past New Year when BGMD > EDMD; where
-- seasons overlap the lowest limit applies). Occurred at the first reading
-- above, reported when the platform first extracted it; severity by the peak
-- excess over the limit (vars hazard_reservoir_severe_excess_m / _extreme_).
{%- set severity -%}
case
    when episodes.peak_excess_m >= {{ var('hazard_reservoir_extreme_excess_m') }} then 'extreme'
    when episodes.peak_excess_m >= {{ var('hazard_reservoir_severe_excess_m') }} then 'severe'
    else 'moderate'
end
{%- endset %}

with

limits as (
    select * from {{ ref('stg_water__reservoir_flood_limits') }}
    where flood_limit_level_m is not null
),

local_readings as (
    select
        *,
        to_char(observed_at at time zone {{ local_time_zone() }}, 'MMDD') as observed_mmdd
    from {{ ref('stg_water__reservoir_readings') }}
),

readings as (
    select
        readings.station_id,
        readings.observed_at,
        readings.level_m,
        readings.first_extracted_at,
        min(limits.flood_limit_level_m) as flood_limit_level_m
    from local_readings as readings
    inner join limits
        on
            readings.station_id = limits.station_id
            and case
                when limits.season_begin_mmdd <= limits.season_end_mmdd
                    then readings.observed_mmdd between limits.season_begin_mmdd and limits.season_end_mmdd
                else
                    readings.observed_mmdd >= limits.season_begin_mmdd
                    or readings.observed_mmdd <= limits.season_end_mmdd
            end
    where readings.level_m is not null
    group by readings.station_id, readings.observed_at, readings.level_m, readings.first_extracted_at
),

islands as (
    select
        *,
        level_m > flood_limit_level_m as is_over,
        max(observed_at) over (partition by station_id) as latest_observed_at,
        count(*) filter (where level_m <= flood_limit_level_m) over (partition by station_id order by observed_at)
            as episode_no
    from readings
),

episodes as (
    select
        station_id,
        min(observed_at) as started_at,
        max(observed_at) as last_over_at,
        max(latest_observed_at) as latest_observed_at,
        max(level_m - flood_limit_level_m) as peak_excess_m,
        max(level_m) as peak_level_m,
        (array_agg(flood_limit_level_m order by observed_at))[1] as flood_limit_level_m,
        (array_agg(first_extracted_at order by observed_at))[1] as first_reported_at
    from islands
    where is_over
    group by station_id, episode_no
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
