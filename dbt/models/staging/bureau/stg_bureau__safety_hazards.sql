-- 安全生产隐患排查台账: the rows of the newest workbook version (each upload is
-- a full replacement of the register). A hazard number listed twice in that
-- version keeps its last row. Credit codes stay as written: they are
-- validated downstream (int_enterprise_mentions_unioned).
with

source as (
    select * from {{ source('bureau', 'safety_hazards') }}
),

latest_version as (
    select workbook_version
    from source
    order by uploaded_at desc nulls last, _extracted_at desc, _batch_id desc
    limit 1
),

latest_rows as (
    select distinct on (hazard_code) *
    from source
    where
        workbook_version in (select workbook_version from latest_version)
        and hazard_code is not null
    order by hazard_code, row_number desc nulls last
),

renamed as (
    select
        hazard_code as hazard_id,
        nullif(trim(enterprise_name), '') as enterprise_name,
        nullif(trim(credit_code), '') as credit_code,
        nullif(trim(hazard_level), '') as hazard_level,
        nullif(trim(description), '') as description,
        found_date,
        deadline_date,
        rectified_date,
        nullif(trim(rectification_status), '') as rectification_status,
        nullif(trim(supervision_level), '') as supervision_level,
        source_file,
        workbook_version,
        uploaded_at,
        row_number as source_row_number,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_rows
)

select * from renamed
