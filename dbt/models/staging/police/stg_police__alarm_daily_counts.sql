-- Non-emergency 110 alarms, kept only as daily counts per category and
-- division (police.md minimisation). A re-sent file replaces its day in raw.
with

source as (
    select * from {{ source('police', 'alarm_daily_counts') }}
    where report_date is not null
),

latest as (
    {{ latest_row_per('source', ['report_date', 'category_code', 'division_code']) }}
),

renamed as (
    select
        to_char(report_date, 'YYYYMMDD') || '-' || coalesce(trim(category_code), '') || '-'
        || coalesce(division_code, '') as alarm_daily_count_id,
        report_date,
        trim(category_code) as alarm_category_code,
        category_name as alarm_category_name,
        division_code,
        cast(alarm_count as integer) as alarm_count,
        source_file,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
)

select * from renamed
