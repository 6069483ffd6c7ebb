-- Every town × every depot holding stock: the haversine distance from the
-- town's centre (辖区基础信息 中心经度/中心纬度) to the depot on a sphere of
-- radius 6371.0088 km, the road estimate (× reserve_road_factor), the travel
-- time (÷ reserve_travel_speed_kmh) and whether it is within
-- reserve_reach_target_hours (at the target counts as within). The same
-- estimate as int_division_reserve_reach_estimated, for every depot rather
-- than the nearest: the quantity side of the 10-hour target sums over them.
with

towns as (
    select code12 as division_code from {{ ref('ref_divisions') }}
    where level = 'town'
),

facts as (
    select * from {{ ref('stg_bureau__division_facts') }}
),

depots as (
    select * from {{ ref('int_reserve_depots_summarised') }}
    where has_stock and lon is not null and lat is not null
),

centres as (
    select towns.division_code, facts.center_lon, facts.center_lat
    from towns
    inner join facts on towns.division_code = facts.division_code
    where facts.center_lon is not null and facts.center_lat is not null
),

distances as (
    select
        centres.division_code,
        depots.depot_id,
        {{ haversine_km('centres.center_lat', 'centres.center_lon', 'depots.lat', 'depots.lon') }}
            as straight_line_km
    from centres
    cross join depots
),

estimated as (
    select
        division_code || '|' || depot_id as division_depot_id,
        division_code,
        depot_id,
        straight_line_km,
        straight_line_km * {{ var('reserve_road_factor') }} as road_km,
        straight_line_km * {{ var('reserve_road_factor') }} / {{ var('reserve_travel_speed_kmh') }} as travel_hours
    from distances
),

final as (
    select
        *,
        travel_hours <= {{ var('reserve_reach_target_hours') }} as is_within_target
    from estimated
)

select * from final
