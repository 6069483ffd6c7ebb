-- 应急物资储备台账: the rows of the newest workbook version (each upload is a
-- full replacement of the register), one per depot, material code and
-- specification; a row pasted twice keeps its last occurrence.
with

source as (
    select * from {{ source('bureau', 'material_stock') }}
),

latest_version as (
    select workbook_version
    from source
    order by uploaded_at desc nulls last, _extracted_at desc, _batch_id desc
    limit 1
),

latest_rows as (
    select distinct on (depot_code, material_code, spec) *
    from source
    where
        workbook_version in (select workbook_version from latest_version)
        and depot_code is not null
        and material_code is not null
    order by depot_code, material_code, spec, row_number desc nulls last
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
        source_file,
        workbook_version,
        uploaded_at,
        row_number as source_row_number,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_rows
)

select * from renamed
