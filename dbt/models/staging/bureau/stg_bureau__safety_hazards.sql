-- 安全生产隐患排查台账: the rows of the newest workbook version (each upload is
-- a full replacement of the register). A hazard number listed twice in that
-- version keeps its last row. Credit codes stay as written: they are
-- validated downstream (int_enterprise_mentions_unioned).
with

source as (
    select * from {{ source('bureau', 'safety_hazards') }}
),

latest_rows as (
    {{ latest_register_rows('source', ['hazard_code']) }}
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
        {{ register_row_origin_columns() }}
    from latest_rows
)

select * from renamed
