-- The flood state of each water site (int_water_sites_thresholded) at its
-- newest reading, the water site's risk grade (SL 323 grades no risk, and
-- FRGRD 报汛等级 is a reporting grade, not a risk):
--   river section: stage ≥ GRZ 超保证 (rank 4); ≥ WRZ 超警戒 (3); else 正常 (1)
--     (at or above, as int_river_stage_runs);
--   reservoir: level above the flood-limit level FSLTDZ of the flood season
--     (FSTP 1–3) its local date falls in 超汛限 (3); at or below 正常 (1);
--     outside every flood season 非汛期 (1, no flood limit applies);
--   no reading with a value: 无读数, rank NULL.
with

sites as (
    select * from {{ ref('int_water_sites_thresholded') }}
),

river_latest as (
    select distinct on (station_id)
        station_id,
        observed_at,
        stage_m as value_m
    from {{ ref('stg_water__river_readings') }}
    where stage_m is not null
    order by station_id, observed_at desc
),

reservoir_latest as (
    select distinct on (station_id)
        station_id,
        observed_at,
        level_m as value_m,
        to_char(observed_at at time zone {{ local_time_zone() }}, 'MMDD') as observed_mmdd
    from {{ ref('stg_water__reservoir_readings') }}
    where level_m is not null
    order by station_id, observed_at desc
),

reservoir_limits as (
    select
        latest.station_id,
        min(limits.flood_limit_level_m) as flood_limit_level_m
    from reservoir_latest as latest
    inner join {{ ref('stg_water__reservoir_flood_limits') }} as limits
        on
            latest.station_id = limits.station_id
            and limits.is_flood_season
            and {{ mmdd_in_period('latest.observed_mmdd', 'limits.season_begin_mmdd', 'limits.season_end_mmdd')
                | indent(12) }}
    group by latest.station_id
),

stated as (
    select
        sites.water_site_id,
        coalesce(river_latest.observed_at, reservoir_latest.observed_at) as observed_at,
        coalesce(river_latest.value_m, reservoir_latest.value_m) as observed_level_m,
        reservoir_limits.flood_limit_level_m as current_flood_limit_level_m,
        case
            when sites.site_type = 'river_section' and river_latest.value_m is null then 'no_reading'
            when sites.site_type = 'river_section' and river_latest.value_m >= sites.guaranteed_stage_m
                then 'above_guaranteed'
            when sites.site_type = 'river_section' and river_latest.value_m >= sites.warning_stage_m
                then 'above_warning'
            when sites.site_type = 'river_section' then 'normal'
            when reservoir_latest.value_m is null then 'no_reading'
            when reservoir_limits.flood_limit_level_m is null then 'non_flood_season'
            when reservoir_latest.value_m > reservoir_limits.flood_limit_level_m then 'above_flood_limit'
            else 'normal'
        end as flood_state
    from sites
    left join river_latest
        on sites.water_site_id = river_latest.station_id and sites.site_type = 'river_section'
    left join reservoir_latest
        on sites.water_site_id = reservoir_latest.station_id and sites.site_type = 'reservoir'
    left join reservoir_limits
        on sites.water_site_id = reservoir_limits.station_id and sites.site_type = 'reservoir'
)

select
    water_site_id,
    observed_at,
    observed_level_m,
    current_flood_limit_level_m,
    flood_state,
    case flood_state
        when 'above_guaranteed' then '超保证水位'
        when 'above_warning' then '超警戒水位'
        when 'above_flood_limit' then '超汛限水位'
        when 'normal' then '正常'
        when 'non_flood_season' then '非汛期'
        else '无读数'
    end as flood_state_name,
    case flood_state
        when 'above_guaranteed' then 4
        when 'above_warning' then 3
        when 'above_flood_limit' then 3
        when 'normal' then 1
        when 'non_flood_season' then 1
    end as risk_rank
from stated
