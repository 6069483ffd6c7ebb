-- Rescue teams with their type code (ref_rescue_team_types, by the
-- normalised type as written) and division resolved against ref_divisions;
-- an unmapped type or division stays NULL and is counted in
-- int_resource__unmapped_codes. Personal columns are not carried on.
with

teams as (
    select * from {{ ref('stg_bureau__rescue_teams') }}
),

team_types as (
    select * from {{ ref('ref_rescue_team_types') }}
),

divisions as (
    select * from {{ ref('ref_divisions') }}
),

classified as (
    select
        teams.team_id,
        teams.team_name,
        teams.team_type as team_type_raw,
        team_types.team_type_code,
        team_types.team_type_name,
        team_types.force_category,
        teams.member_count,
        teams.main_equipment,
        teams.base_address,
        teams.division_code as division_code_raw,
        divisions.code12 as division_code,
        divisions.name as division_name,
        teams.lon,
        teams.lat,
        teams.extracted_at
    from teams
    left join team_types on teams.team_type_key = team_types.team_type_name
    left join divisions on teams.division_code = divisions.code12
)

select * from classified
