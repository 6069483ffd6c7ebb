-- 突发事件信息报告台账: the rows of the newest workbook version (each upload is
-- a full replacement of the register), one per report; a report number listed
-- twice keeps its last row. Times are Beijing time as typed (the connector
-- reads them as Asia/Shanghai). Reporter and phone are personal information:
-- only the connector's pseudonyms and masks are here.
with

source as (
    select * from {{ source('bureau', 'event_reports') }}
),

latest_rows as (
    {{ latest_register_rows('source', ['report_code']) }}
),

renamed as (
    select
        report_code as report_id,
        event_code as event_id,
        nullif(trim(event_name), '') as event_name,
        event_category_code as category_code,
        occurred_time as occurred_at,
        division_code,
        nullif(trim(report_type), '') as report_type,
        reported_time as reported_at,
        death_count,
        missing_count,
        injury_count,
        affected_population,
        relocated_count,
        direct_loss_10k_yuan,
        nullif(trim(reporting_unit), '') as reporting_unit,
        reporter_pseudonym,
        reporter_masked,
        phone_pseudonym,
        phone_masked,
        {{ register_row_origin_columns() }}
    from latest_rows
)

select * from renamed
