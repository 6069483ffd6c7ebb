-- Data timeliness (数据时效) per source dataset and local day of occurrence:
-- the share of hazard events whose source record came within var
-- report_timeliness_target_minutes (default 60). Not the plan's KPI
-- 乡镇灾害事故信息上报及时率: that is fct_town_report_timeliness. An event with no
-- report time counts as not timely, except in a dataset that never carries
-- one (police accidents: the JTSG export has no report time), whose share is
-- NULL (unmeasured) rather than 0.
{%- set target = var('report_timeliness_target_minutes') %}

with

events as (
    select
        *,
        {{ local_date('occurred_at') }} as event_date,
        bool_or(reported_at is not null) over (partition by source, source_dataset) as has_report_time
    from {{ ref('fct_hazard_event') }}
),

daily as (
    select
        source,
        source_dataset,
        event_date,
        bool_or(has_report_time) as is_measured,
        count(*) as event_count,
        count(reported_at) as reported_count,
        count(*) filter (where report_lag_minutes <= {{ target }}) as timely_count,
        count(*) filter (where report_lag_minutes > {{ target }}) as late_count,
        percentile_cont(0.5) within group (order by report_lag_minutes) as median_lag_minutes,
        max(report_lag_minutes) as max_lag_minutes
    from events
    group by source, source_dataset, event_date
)

select
    source || '-' || source_dataset || '-' || to_char(event_date, 'YYYYMMDD') as report_timeliness_id,
    source,
    source_dataset,
    event_date,
    cast({{ target }} as integer) as target_minutes,
    cast(event_count as integer) as event_count,
    cast(reported_count as integer) as reported_count,
    cast(timely_count as integer) as timely_count,
    cast(late_count as integer) as late_count,
    cast(event_count - reported_count as integer) as unreported_count,
    is_measured,
    cast(case when is_measured then round(cast(timely_count as numeric) / event_count, 4) end as numeric(5, 4))
        as timely_share,
    case when is_measured then timely_count = event_count end as meets_target,
    cast(median_lag_minutes as double precision) as median_lag_minutes,
    max_lag_minutes
from daily
