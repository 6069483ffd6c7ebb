-- 110 alarms classified: the bureau's category matched to
-- ref_police_alarm_categories on its 4 digits, else on its 2-digit group
-- (mapping_level says which; NULL = unmapped, counted in
-- int_hazard__unmapped_codes). Event shape for fct_hazard_event: occurred at
-- the call (接警时间, the earliest time known), reported at 反馈时间 (the
-- responding unit's report back; NULL while none). Caller data stays in
-- staging. Incremental by file day: every report_date with a row extracted
-- after the newest extracted_at here (less var hazard_lookback_hours) is
-- replaced whole, as a re-sent file replaces its day (delete+insert on
-- report_date; alarm_id stays unique, tested).
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='report_date',
    )
}}

with

alarms as (
    select * from {{ ref('stg_police__alarms') }}
    {% if is_incremental() -%}
    where {{ touched_since_watermark(
        ['report_date'], ref('stg_police__alarms'), 'extracted_at', 'extracted_at', var('hazard_lookback_hours')
    ) }}
    {%- endif %}
),

categories as (
    select * from {{ ref('ref_police_alarm_categories') }}
),

classified as (
    select
        alarms.*,
        coalesce(by_code.level, by_group.level) as mapping_level,
        coalesce(by_code.is_emergency_relevant, by_group.is_emergency_relevant, false) as is_emergency_relevant,
        coalesce(by_code.event_category_code, by_group.event_category_code) as event_category_code,
        coalesce(by_code.default_severity, by_group.default_severity, 'moderate') as default_severity
    from alarms
    left join categories as by_code on alarms.alarm_category_code = by_code.alarm_category_code
    left join categories as by_group
        on left(alarms.alarm_category_code, 2) = by_group.alarm_category_code and by_group.level = 'group'
)

select
    'police-alarm-' || alarm_id as event_id,
    'police' as source,
    'alarms' as source_dataset,
    alarm_id as source_record_id,
    event_category_code as category_code,
    received_at as occurred_at,
    feedback_at as reported_at,
    division_code,
    lon,
    lat,
    default_severity as severity,
    case when feedback_at is not null or outcome is not null then 'resolved' else 'ongoing' end as status,
    concat_ws(' ', alarm_category_name, nullif(summary, ''), nullif('处置：' || outcome, '处置：')) as description,
    is_emergency_relevant as is_hazard_event,
    alarm_id,
    report_date,
    alarm_category_code,
    alarm_category_name,
    mapping_level,
    dispatched_at,
    arrived_at,
    extracted_at
from classified
