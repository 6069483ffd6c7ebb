-- 辖区基础信息: the rows of the newest workbook version (each upload is a full
-- replacement of the register), one per division code; a code listed twice
-- keeps its last row.
with

source as (
    select * from {{ source('bureau', 'division_facts') }}
),

latest_rows as (
    {{ latest_register_rows('source', ['division_code']) }}
),

renamed as (
    select
        division_code,
        nullif(trim(name), '') as division_name,
        population,
        area_km2,
        center_lon,
        center_lat,
        {{ register_row_origin_columns() }}
    from latest_rows
)

select * from renamed
