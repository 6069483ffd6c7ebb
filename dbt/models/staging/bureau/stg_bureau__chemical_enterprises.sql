-- 危险化学品企业台账: the rows of the newest workbook version (each upload is a
-- full replacement of the register). A credit code listed twice in that
-- version keeps its last row (the one staff typed last).
with

source as (
    select * from {{ source('bureau', 'chemical_enterprises') }}
),

latest_version as (
    select workbook_version
    from source
    order by uploaded_at desc nulls last, _extracted_at desc, _batch_id desc
    limit 1
),

latest_rows as (
    select distinct on (credit_code) *
    from source
    where
        workbook_version in (select workbook_version from latest_version)
        and credit_code is not null
    order by credit_code, row_number desc nulls last
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
        source_file,
        workbook_version,
        uploaded_at,
        row_number as source_row_number,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_rows
)

select * from renamed
