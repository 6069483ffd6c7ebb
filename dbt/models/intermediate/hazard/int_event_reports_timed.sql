-- 突发事件信息报告 against their time limits (ref_report_time_limits): one
-- row per report a town owed or made. Slots owed per event: an 初报 due
-- limit_minutes after occurrence; 续报 either one per local day from the day
-- after occurrence to the day the event stabilised, due at daily_deadline
-- (daily_by_local_time: natural disasters, 每日9时前), or one per 续报 made,
-- due limit_minutes after the report before it (after_previous_report); a
-- 核报 due limit_minutes after the event stabilised (its last 初报/续报).
-- A made report fills its slot (the first 初报 / 核报, the first 续报 of a
-- day); a slot nobody filled is a missing report; a report that fills no slot
-- (a second 续报 the same day, a duplicate 初报) has no due time.
with

reports as (
    select * from {{ ref('stg_bureau__event_reports') }}
    where event_id is not null and report_type in ('初报', '续报', '核报') and reported_at is not null
),

categories as (
    select * from {{ ref('ref_event_categories') }}
),

limits as (
    select * from {{ ref('ref_report_time_limits') }}
),

events as (
    select
        event_id,
        min(occurred_at) as occurred_at,
        (array_agg(category_code order by reported_at desc, report_id desc))[1] as category_code,
        max(reported_at) filter (where report_type <> '核报') as stabilised_at
    from reports
    group by event_id
),

events_limited as (
    select
        events.*,
        coalesce(categories.top_code, left(events.category_code, 2) || '000') as top_category_code
    from events
    left join categories on events.category_code = categories.code
),

followup_rules as (
    select
        events_limited.event_id,
        limits.rule_kind
    from events_limited
    inner join limits
        on events_limited.top_category_code = limits.top_category_code and limits.report_type = '续报'
),

made as (
    select
        reports.*,
        followup_rules.rule_kind as followup_rule_kind,
        lag(reports.reported_at) over (
            partition by reports.event_id order by reports.reported_at, reports.report_id
        ) as previous_reported_at,
        row_number() over (
            partition by reports.event_id, reports.report_type order by reports.reported_at, reports.report_id
        ) as type_rank,
        row_number() over (
            partition by reports.event_id, reports.report_type, {{ local_date('reports.reported_at') }}
            order by reports.reported_at, reports.report_id
        ) as day_rank
    from reports
    left join followup_rules on reports.event_id = followup_rules.event_id
),

made_keyed as (
    select
        *,
        case
            when report_type in ('初报', '核报') and type_rank = 1 then event_id || '|' || report_type
            when report_type = '续报' and followup_rule_kind = 'after_previous_report'
                then event_id || '|续报|' || report_id
            when report_type = '续报' and followup_rule_kind = 'daily_by_local_time' and day_rank = 1
                then event_id || '|续报|' || {{ local_date('reported_at') }}
        end as slot_key
    from made
),

slots as (
    select
        events_limited.event_id || '|' || limits.report_type as slot_key,
        events_limited.event_id,
        limits.report_type,
        limits.limit_id,
        case limits.rule_kind
            when 'after_occurrence' then events_limited.occurred_at
            when 'after_stabilised' then events_limited.stabilised_at
        end + limits.limit_minutes * interval '1 minute' as due_at,
        cast(null as date) as due_date
    from events_limited
    inner join limits
        on
            events_limited.top_category_code = limits.top_category_code
            and limits.rule_kind in ('after_occurrence', 'after_stabilised')
    where limits.rule_kind = 'after_occurrence' or events_limited.stabilised_at is not null

    union all

    select
        events_limited.event_id || '|续报|' || cast(slot_day as date) as slot_key,
        events_limited.event_id,
        limits.report_type,
        limits.limit_id,
        (cast(slot_day as date) + cast(limits.daily_deadline as time)) at time zone {{ local_time_zone() }} as due_at,
        cast(slot_day as date) as due_date
    from events_limited
    inner join limits
        on
            events_limited.top_category_code = limits.top_category_code
            and limits.rule_kind = 'daily_by_local_time'
    cross join
        lateral generate_series(
            {{ local_date('events_limited.occurred_at') }} + 1,
            {{ local_date('events_limited.stabilised_at') }},
            interval '1 day'
        ) as slot_day

    union all

    select
        made.slot_key,
        made.event_id,
        limits.report_type,
        limits.limit_id,
        made.previous_reported_at + limits.limit_minutes * interval '1 minute' as due_at,
        cast(null as date) as due_date
    from made_keyed as made
    inner join events_limited on made.event_id = events_limited.event_id
    inner join limits
        on
            events_limited.top_category_code = limits.top_category_code
            and limits.report_type = '续报'
            and limits.rule_kind = 'after_previous_report'
    where made.report_type = '续报'
),

final as (
    select
        coalesce(
            made.report_id,
            slots.event_id || '-' || slots.report_type || coalesce('-' || to_char(slots.due_date, 'YYYYMMDD'), '')
            || '-未报'
        ) as event_report_id,
        made.report_id,
        coalesce(made.event_id, slots.event_id) as event_id,
        coalesce(made.report_type, slots.report_type) as report_type,
        slots.limit_id,
        slots.due_at,
        made.reported_at,
        made.report_id is null as is_missing
    from made_keyed as made
    full outer join slots on made.slot_key = slots.slot_key
)

select * from final
