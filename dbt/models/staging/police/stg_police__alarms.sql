-- 110 emergency-relevant alarms (the connector keeps only 03xx, 04xx, 07xx,
-- 0503 and 0505 as rows). A re-sent file replaces its day in raw
-- (replace_by report_date), so raw holds the current file of each day; an
-- alarm listed twice keeps its latest extraction. Caller columns are keyed
-- pseudonyms and masked forms only (pii).
with

source as (
    select * from {{ source('police', 'alarms') }}
    where alarm_id is not null
),

latest as (
    {{ latest_row_per('source', ['alarm_id']) }}
),

renamed as (
    select
        alarm_id,
        received_at,
        report_channel,
        caller_name_pseudonym,
        caller_name_masked,
        caller_phone_pseudonym,
        caller_phone_masked,
        caller_id_pseudonym,
        caller_id_masked,
        caller_id_status,
        address,
        division_code,
        lon,
        lat,
        coord_status,
        trim(category_code) as alarm_category_code,
        category_name as alarm_category_name,
        summary,
        dispatch_unit,
        dispatched_at,
        arrived_at,
        outcome,
        feedback_at,
        report_date,
        source_file,
        cast(source_row as integer) as source_row,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
)

select * from renamed
