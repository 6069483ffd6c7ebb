-- 辖区基础信息: the rows of the newest workbook version (each upload is a full
-- replacement of the register), one per division code; a code listed twice
-- keeps its last row.
with

source as (
    select * from {{ source('bureau', 'division_facts') }}
),

latest_version as (
    select workbook_version
    from source
    order by uploaded_at desc nulls last, _extracted_at desc, _batch_id desc
    limit 1
),

latest_rows as (
    select distinct on (division_code) *
    from source
    where
        workbook_version in (select workbook_version from latest_version)
        and division_code is not null
    order by division_code, row_number desc nulls last
),

renamed as (
    select
        division_code,
        nullif(trim(name), '') as division_name,
        population,
        area_km2,
        center_lon,
        center_lat,
        source_file,
        workbook_version,
        uploaded_at,
        row_number as source_row_number,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_rows
)

select * from renamed
