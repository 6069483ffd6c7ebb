-- 危险化学品企业台账: the rows of the newest workbook version (each upload is a
-- full replacement of the register). A credit code listed twice in that
-- version keeps its last row (the one staff typed last).
with

source as (
    select * from {{ source('bureau', 'chemical_enterprises') }}
),

latest_rows as (
    {{ latest_register_rows('source', ['credit_code']) }}
),

renamed as (
    select
        credit_code,
        nullif(trim(enterprise_name), '') as enterprise_name,
        nullif(trim(enterprise_type), '') as enterprise_type,
        nullif(trim(major_hazard_level), '') as major_hazard_level,
        nullif(trim(main_chemicals), '') as main_chemicals,
        max_storage_t,
        employee_count,
        nullif(trim(address), '') as address,
        division_code,
        lon,
        lat,
        safety_officer_pseudonym,
        safety_officer_masked,
        phone_pseudonym,
        phone_masked,
        last_inspection_date,
        {{ register_row_origin_columns() }}
    from latest_rows
)

select * from renamed
