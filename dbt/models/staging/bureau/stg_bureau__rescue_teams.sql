-- 救援队伍台账: the rows of the newest workbook version (each upload is a full
-- replacement of the register), one per team; a team listed twice keeps its
-- last row. team_type_key is the type as written, NFKC-normalised (full-width
-- dashes and letters made plain), dash variants unified, spaces removed.
with

source as (
    select * from {{ source('bureau', 'rescue_teams') }}
),

latest_rows as (
    {{ latest_register_rows('source', ['team_code']) }}
),

renamed as (
    select
        team_code as team_id,
        nullif(trim(team_name), '') as team_name,
        nullif(trim(team_type), '') as team_type,
        replace(translate(normalize(team_type, nfkc), '—–‐－', '----'), ' ', '') as team_type_key,
        member_count,
        nullif(trim(main_equipment), '') as main_equipment,
        nullif(trim(base_address), '') as base_address,
        division_code,
        lon,
        lat,
        leader_pseudonym,
        leader_masked,
        phone_pseudonym,
        phone_masked,
        {{ register_row_origin_columns() }}
    from latest_rows
)

select * from renamed
