-- 应急物资储备台账: the rows of the newest workbook version (each upload is a
-- full replacement of the register), one per depot, material code and
-- specification; a row pasted twice keeps its last occurrence.
with

source as (
    select * from {{ source('bureau', 'material_stock') }}
),

latest_rows as (
    {{ latest_register_rows(
        'source', ['depot_code', 'material_code', 'spec'], required=['depot_code', 'material_code']
    ) }}
),

renamed as (
    select
        depot_code || '|' || material_code || '|' || coalesce(trim(spec), '') as material_stock_id,
        depot_code as depot_id,
        nullif(trim(depot_name), '') as depot_name,
        nullif(trim(depot_level), '') as depot_level,
        division_code,
        nullif(trim(address), '') as address,
        lon,
        lat,
        material_code,
        nullif(trim(material_name), '') as material_name,
        nullif(trim(spec), '') as spec,
        unit,
        unit_raw,
        lower(replace(normalize(unit_raw, nfkc), ' ', '')) as unit_key,
        quantity as stock_quantity,
        standard_quantity as required_quantity,
        production_date,
        expiry_date,
        updated_date,
        {{ register_row_origin_columns() }}
    from latest_rows
)

select * from renamed
