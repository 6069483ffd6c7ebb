-- 救援队伍台账: the rows of the newest workbook version (each upload is a full
-- replacement of the register), one per team; a team listed twice keeps its
-- last row. team_type_key is the type as written, NFKC-normalised (full-width
-- dashes and letters made plain), dash variants unified, spaces removed.
with

source as (
    select * from {{ source('bureau', 'rescue_teams') }}
),

latest_version as (
    select workbook_version
    from source
    order by uploaded_at desc nulls last, _extracted_at desc, _batch_id desc
    limit 1
),

latest_rows as (
    select distinct on (team_code) *
    from source
    where
        workbook_version in (select workbook_version from latest_version)
        and team_code is not null
    order by team_code, row_number desc nulls last
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
        source_file,
        workbook_version,
        uploaded_at,
        row_number as source_row_number,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_rows
)

select * from renamed
