-- 辖区基础信息: the rows of the newest workbook version (each upload is a full
-- replacement of the register), one per division code; a code listed twice
-- keeps its last row. The register lists the towns (ref_divisions) and, in
-- the stand-in, the villages under them: division_level is 'town' for a code
-- ending in 000, 'village' for a fourth-level code (统计用区划代码: last three
-- digits 001–199 居委会, 200–399 村委会), else NULL; town_code is the town a
-- row belongs to (its first nine digits + 000).
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
        case
            when division_code ~ '^[0-9]{9}000$' then 'town'
            when division_code ~ '^[0-9]{9}[0-3][0-9]{2}$' then 'village'
        end as division_level,
        case when division_code ~ '^[0-9]{12}$' then left(division_code, 9) || '000' end as town_code,
        nullif(trim(name), '') as division_name,
        population,
        area_km2,
        center_lon,
        center_lat,
        {{ register_row_origin_columns() }}
    from latest_rows
)

select * from renamed
