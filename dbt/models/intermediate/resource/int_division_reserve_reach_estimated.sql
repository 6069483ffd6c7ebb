-- For each of the 26 towns: the nearest reserve depot holding stock, by the
-- haversine (great-circle) distance from the town's centre (辖区基础信息
-- 中心经度/中心纬度) to the depot, on a sphere of radius 6371.0088 km (the
-- IUGG mean Earth radius):
--   d = 2 R asin(sqrt(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)))
-- road_km = reserve_road_factor × d; travel_hours = road_km / speed;
-- reachable when travel_hours ≤ reserve_reach_target_hours. A town without a
-- known centre gets NULLs; with no depot holding stock anywhere, false.
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
    left join facts on towns.division_code = facts.division_code
),

distances as (
    select
        centres.division_code,
        depots.depot_id,
        depots.depot_name,
        {{ haversine_km('centres.center_lat', 'centres.center_lon', 'depots.lat', 'depots.lon') }}
            as straight_line_km
    from centres
    cross join depots
    where centres.center_lon is not null and centres.center_lat is not null
),

nearest as (
    select distinct on (division_code) *
    from distances
    order by division_code, straight_line_km, depot_id
),

estimated as (
    select
        centres.division_code,
        centres.center_lon,
        centres.center_lat,
        nearest.depot_id as nearest_depot_id,
        nearest.depot_name as nearest_depot_name,
        nearest.straight_line_km,
        nearest.straight_line_km * {{ var('reserve_road_factor') }} as road_km,
        nearest.straight_line_km * {{ var('reserve_road_factor') }}
        / {{ var('reserve_travel_speed_kmh') }} as travel_hours
    from centres
    left join nearest on centres.division_code = nearest.division_code
),

final as (
    select
        *,
        case
            when center_lon is null or center_lat is null then null
            else coalesce(travel_hours <= {{ var('reserve_reach_target_hours') }}, false)
        end as is_reachable_within_target
    from estimated
)

select * from final
