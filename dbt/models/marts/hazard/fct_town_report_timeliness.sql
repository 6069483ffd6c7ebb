-- 乡镇灾害事故信息上报及时率 (the 14th five-year plan's KPI, target 100%): per
-- town and month (of the due time, Beijing time), reports on time / reports
-- due, from fct_event_report_timeliness (a missing report past its due time
-- is due and late).
with

reports as (
    select * from {{ ref('fct_event_report_timeliness') }}
    where is_due
),

monthly as (
    select
        division_code,
        due_month,
        max(division_name) as division_name,
        count(*) as due_count,
        count(*) filter (where is_on_time) as on_time_count,
        count(*) filter (where is_late and not is_missing) as late_count,
        count(*) filter (where is_missing) as missing_count,
        count(distinct event_id) as event_count
    from reports
    group by division_code, due_month
)

select
    coalesce(division_code, 'unknown') || '-' || to_char(due_month, 'YYYYMM') as town_report_timeliness_id,
    division_code,
    division_name,
    due_month,
    cast(event_count as integer) as event_count,
    cast(due_count as integer) as due_count,
    cast(on_time_count as integer) as on_time_count,
    cast(late_count as integer) as late_count,
    cast(missing_count as integer) as missing_count,
    cast(round(cast(on_time_count as numeric) / due_count, 4) as numeric(5, 4)) as timely_share,
    cast(1 as numeric(5, 4)) as target_share,
    on_time_count = due_count as meets_target
from monthly
