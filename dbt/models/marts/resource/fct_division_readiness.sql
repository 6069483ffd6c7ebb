-- One row per town (all 26 of ref_divisions, with or without resources):
-- shelter capacity per resident, rescue teams, reserve depots, and whether
-- material reserves reach the town within the plan's 10-hour target (the
-- haversine × road-factor estimate of int_division_reserve_reach_estimated).
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
        cast({{ var('reserve_reach_target_hours') }} as double precision) as reach_target_hours
    from towns
    left join facts on towns.division_code = facts.division_code
    left join shelters on towns.division_code = shelters.division_code
    left join teams on towns.division_code = teams.division_code
    left join depots on towns.division_code = depots.division_code
    left join reach on towns.division_code = reach.division_code
)

select * from final
