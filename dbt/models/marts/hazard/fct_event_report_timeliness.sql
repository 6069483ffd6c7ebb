-- 突发事件信息报告及时性: one row per report a town made or owed (the bureau's
-- 突发事件信息报告台账), with its time limit (ref_report_time_limits), due
-- time, delay and whether it was on time. A report at its due time is on
-- time; a missing report counts once its due time has passed (as_of), as
-- late; a report that fills no slot (a second 续报 the same day) has no due
-- time and is not counted.
with

timed as (
    select * from {{ ref('int_event_reports_timed') }}
),

reports as (
    select * from {{ ref('stg_bureau__event_reports') }}
),

event_facts as (
    select distinct on (event_id)
        event_id,
        event_name,
        category_code,
        division_code,
        occurred_at
    from reports
    where event_id is not null
    order by event_id, reported_at desc nulls last, report_id desc
),

categories as (
    select * from {{ ref('ref_event_categories') }}
),

limits as (
    select * from {{ ref('ref_report_time_limits') }}
),

divisions as (
    select * from {{ ref('ref_divisions') }}
),

judged as (
    select
        timed.*,
        timed.due_at is not null and (timed.reported_at is not null or timed.due_at <= {{ as_of() }}) as is_due,
        coalesce(timed.reported_at <= timed.due_at, false) as is_within_limit
    from timed
),

final as (
    select
        judged.event_report_id,
        judged.report_id,
        judged.event_id,
        event_facts.event_name,
        event_facts.category_code,
        categories.name as category_name,
        coalesce(categories.top_code, left(event_facts.category_code, 2) || '000') as top_category_code,
        event_facts.division_code,
        divisions.name as division_name,
        judged.report_type,
        judged.limit_id,
        limits.rule_kind,
        limits.limit_minutes,
        limits.daily_deadline,
        limits.code_status as limit_status,
        limits.source_standard || ' ' || limits.source_clause as limit_source,
        event_facts.occurred_at,
        judged.due_at,
        judged.reported_at,
        case
            when judged.is_due
                then cast(
                    floor(extract(epoch from coalesce(judged.reported_at, {{ as_of() }}) - judged.due_at) / 60)
                    as integer
                )
        end as delay_minutes,
        judged.is_missing,
        judged.is_due,
        judged.is_due and judged.is_within_limit as is_on_time,
        judged.is_due and not judged.is_within_limit as is_late,
        cast(date_trunc('month', {{ local_date('judged.due_at') }}) as date) as due_month
    from judged
    left join event_facts on judged.event_id = event_facts.event_id
    left join categories on event_facts.category_code = categories.code
    left join limits on judged.limit_id = limits.limit_id
    left join divisions on event_facts.division_code = divisions.code12
)

select * from final
