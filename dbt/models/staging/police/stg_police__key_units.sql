-- 重点管控单位: the bureau drops the full list every day, so the current list
-- is the newest report day (a re-sent file for a day replaces it: the latest
-- extraction of that day wins). One row per licence.
with

source as (
    select * from {{ source('police', 'key_units') }}
),

latest_file as (
    select report_date, _batch_id
    from source
    order by report_date desc, {{ latest_extraction_first() }}
    limit 1
),

latest_rows as (
    select distinct on (source.license_no) source.*
    from source
    inner join latest_file
        on source.report_date = latest_file.report_date and source._batch_id = latest_file._batch_id
    where source.license_no is not null
    order by source.license_no, source.source_row desc nulls last
),

renamed as (
    select
        license_no as licence_id,
        nullif(trim(unit_name), '') as unit_name,
        nullif(trim(credit_code), '') as credit_code,
        nullif(trim(license_type), '') as licence_type,
        valid_until as licence_valid_to_date,
        nullif(trim(address), '') as address,
        division_code,
        principal_pseudonym,
        principal_masked,
        principal_phone_pseudonym,
        principal_phone_masked,
        report_date,
        source_file,
        source_row,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_rows
)

select * from renamed
