-- Emergency resource sites: reserve depots (from the stock register),
-- shelters (natural-resources layer) and rescue teams (at their base), one
-- row each, keyed by '<type>:<source number>'. Type-specific columns are
-- NULL for the other types.
with

depots as (
    select * from {{ ref('int_reserve_depots_summarised') }}
),

shelters as (
    select * from {{ ref('int_shelters_classified') }}
),

teams as (
    select * from {{ ref('int_rescue_teams_classified') }}
),

sites as (
    select
        'depot:' || depot_id as resource_site_id,
        'reserve_depot' as site_type,
        depot_id as source_code,
        depot_name as site_name,
        depot_level,
        null as shelter_class_code,
        null as team_type_code,
        division_code,
        division_name,
        address,
        lon,
        lat,
        cast(null as integer) as capacity_people,
        cast(null as double precision) as effective_area_m2,
        cast(null as integer) as member_count,
        item_count,
        items_in_stock,
        items_below_required,
        'bureau' as source,
        extracted_at as source_extracted_at
    from depots
    union all
    select
        'shelter:' || shelter_id,
        'shelter',
        shelter_id,
        shelter_name,
        null,
        shelter_class_code,
        null,
        division_code,
        division_name,
        address,
        lon,
        lat,
        cast(capacity_people as integer),
        effective_area_m2,
        null,
        null,
        null,
        null,
        'natural_resources',
        extracted_at
    from shelters
    union all
    select
        'team:' || team_id,
        'rescue_team',
        team_id,
        team_name,
        null,
        null,
        team_type_code,
        division_code,
        division_name,
        base_address,
        lon,
        lat,
        null,
        null,
        cast(member_count as integer),
        null,
        null,
        null,
        'bureau',
        extracted_at
    from teams
)

select * from sites
