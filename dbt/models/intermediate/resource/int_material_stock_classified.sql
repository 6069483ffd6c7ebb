-- Stock rows with their GB/T 38565 top class (the first digit of a 7-digit
-- material code), the canonical unit (ref_units, looked up by the unit as
-- written) and the division resolved against ref_divisions. Nothing is
-- dropped: a code that does not map leaves its mapped column NULL and is
-- counted in int_resource__unmapped_codes.
with

stock as (
    select * from {{ ref('stg_bureau__material_stocks') }}
),

classes as (
    select * from {{ ref('ref_material_classes') }}
),

units as (
    select * from {{ ref('ref_units') }}
),

divisions as (
    select * from {{ ref('ref_divisions') }}
),

classified as (
    select
        stock.material_stock_id,
        stock.depot_id,
        stock.depot_name,
        stock.depot_level,
        stock.division_code as division_code_raw,
        divisions.code12 as division_code,
        divisions.name as division_name,
        stock.address,
        stock.lon,
        stock.lat,
        stock.material_code,
        classes.material_class_code,
        classes.name_zh as material_class_name,
        stock.material_name,
        stock.spec,
        coalesce(units.unit, stock.unit) as unit,
        stock.unit_raw,
        units.unit is not null as is_unit_mapped,
        units.quantity_kind,
        stock.stock_quantity,
        stock.required_quantity,
        stock.production_date,
        stock.expiry_date,
        stock.updated_date,
        stock.workbook_version,
        stock.source_row_number,
        stock.extracted_at
    from stock
    left join classes
        on
            stock.material_code ~ '^[0-9]{7}$'
            and left(stock.material_code, 1) = classes.material_class_code
            and classes.class_level = 1
    left join units on stock.unit_key = units.unit_as_written
    left join divisions on stock.division_code = divisions.code12
)

select * from classified
