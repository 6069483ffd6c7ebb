-- One row per town (all 26 of ref_divisions, with or without resources):
-- shelter capacity per resident, rescue teams, reserve depots, and whether
-- material reserves reach the town within the plan's 10-hour target (the
-- haversine × road-factor estimate of int_division_reserve_reach_estimated).
-- The plan's KPIs besides: 灾害信息员 AB岗 coverage of the town's villages
-- (int_village_informants_covered), towns without a shelter, fire-station gaps
-- (no 综合性消防救援 team based in the town; the towns the plan names), and
-- whether the QUANTITY of each key material reaches within the target
-- (int_division_relief_quantities_reached).
with

towns as (
    select code12 as division_code, name as division_name
    from {{ ref('ref_divisions') }}
    where level = 'town'
),

facts as (
    select * from {{ ref('stg_bureau__division_facts') }}
),

shelters as (
    select
        division_code,
        count(*) as shelter_count,
        coalesce(sum(capacity_people), 0) as shelter_capacity_people,
        coalesce(sum(effective_area_m2), 0) as shelter_area_m2
    from {{ ref('int_shelters_classified') }}
    group by division_code
),

teams as (
    select division_code, count(*) as team_count, coalesce(sum(member_count), 0) as team_member_count
    from {{ ref('int_rescue_teams_classified') }}
    group by division_code
),

depots as (
    select division_code, count(*) as depot_count, count(*) filter (where has_stock) as depots_with_stock
    from {{ ref('int_reserve_depots_summarised') }}
    group by division_code
),

reach as (
    select * from {{ ref('int_division_reserve_reach_estimated') }}
),

informants as (
    select
        town_code as division_code,
        count(*) as village_count,
        count(*) filter (where is_ab_covered) as villages_ab_covered_count
    from {{ ref('int_village_informants_covered') }}
    group by town_code
),

fire_stations as (
    select division_code, count(*) as fire_rescue_station_count
    from {{ ref('int_rescue_teams_classified') }}
    where team_type_code = 'fire_rescue'
    group by division_code
),

plan_station_towns as (
    select code12 as division_code from {{ ref('ref_plan_fire_station_towns') }}
),

relief as (
    select
        division_code,
        count(*) as relief_item_count,
        count(*) filter (where not is_quantity_reached_within_target) as relief_items_short_count,
        bool_and(is_quantity_reached_within_target) as is_relief_quantity_reached_within_target,
        string_agg(
            case
                when not is_quantity_reached_within_target
                    then need_item_name || ' 缺 ' || shortfall_quantity || ' ' || unit
            end,
            '；' order by need_item_code
        ) as relief_shortfall_summary
    from {{ ref('int_division_relief_quantities_reached') }}
    group by division_code
),

final as (
    select
        towns.division_code,
        towns.division_name,
        cast(facts.population as integer) as population,
        facts.area_km2,
        reach.center_lon,
        reach.center_lat,
        cast(coalesce(shelters.shelter_count, 0) as integer) as shelter_count,
        cast(coalesce(shelters.shelter_capacity_people, 0) as integer) as shelter_capacity_people,
        cast(coalesce(shelters.shelter_area_m2, 0) as double precision) as shelter_area_m2,
        coalesce(shelters.shelter_capacity_people, 0) / cast(nullif(facts.population, 0) as double precision)
            as shelter_capacity_per_resident,
        coalesce(shelters.shelter_area_m2, 0) / cast(nullif(facts.population, 0) as double precision)
            as shelter_area_per_resident_m2,
        cast(coalesce(teams.team_count, 0) as integer) as team_count,
        cast(coalesce(teams.team_member_count, 0) as integer) as team_member_count,
        cast(coalesce(depots.depot_count, 0) as integer) as depot_count,
        cast(coalesce(depots.depots_with_stock, 0) as integer) as depots_with_stock_count,
        'depot:' || reach.nearest_depot_id as nearest_depot_site_id,
        reach.nearest_depot_name,
        reach.straight_line_km as nearest_depot_straight_line_km,
        reach.road_km as nearest_depot_road_km,
        reach.travel_hours as reserve_travel_hours,
        reach.is_reachable_within_target as is_reserve_reachable_within_target,
        cast({{ var('reserve_travel_speed_kmh') }} as double precision) as travel_speed_kmh,
        cast({{ var('reserve_road_factor') }} as double precision) as road_factor,
        cast({{ var('reserve_reach_target_hours') }} as double precision) as reach_target_hours,
        coalesce(shelters.shelter_count, 0) = 0 as is_shelter_gap,
        cast(coalesce(informants.village_count, 0) as integer) as village_count,
        cast(coalesce(informants.villages_ab_covered_count, 0) as integer) as villages_ab_covered_count,
        cast(coalesce(informants.village_count - informants.villages_ab_covered_count, 0) as integer)
            as villages_missing_post_count,
        informants.villages_ab_covered_count / cast(nullif(informants.village_count, 0) as double precision)
            as informant_ab_coverage_rate,
        cast(coalesce(fire_stations.fire_rescue_station_count, 0) as integer) as fire_rescue_station_count,
        coalesce(fire_stations.fire_rescue_station_count, 0) = 0 as is_fire_station_gap,
        plan_station_towns.division_code is not null as is_plan_named_station_town,
        cast(coalesce(relief.relief_item_count, 0) as integer) as relief_item_count,
        cast(coalesce(relief.relief_items_short_count, 0) as integer) as relief_items_short_count,
        relief.is_relief_quantity_reached_within_target,
        relief.relief_shortfall_summary
    from towns
    left join facts on towns.division_code = facts.division_code
    left join shelters on towns.division_code = shelters.division_code
    left join teams on towns.division_code = teams.division_code
    left join depots on towns.division_code = depots.division_code
    left join reach on towns.division_code = reach.division_code
    left join informants on towns.division_code = informants.division_code
    left join fire_stations on towns.division_code = fire_stations.division_code
    left join plan_station_towns on towns.division_code = plan_station_towns.division_code
    left join relief on towns.division_code = relief.division_code
)

select * from final
