-- Risk per division (the county row and its 26 towns) and local day, from
-- the first day with a hazard event or warning to the as_of day (or the
-- last event's day, if later): hazard
-- events by GB/T 35561 top category, non-emergency 110 alarms (counts only),
-- warnings in force and the worst colour, hazard sites threatened (current
-- sites of the division on a day with a warning in force or a
-- natural-disaster event), and
--   risk_score = hazard_risk_weight_warning × worst_warning_rank
--              + hazard_risk_weight_event × Σ event severity ranks
--              + hazard_risk_weight_site × sites_threatened_count
-- (ranks: warning none 0, Blue 1 … Red 4; severity minor 1 … extreme 4).
-- Incremental by difference: the inputs are small (events and warnings per
-- day; the readings behind them are handled by the incremental
-- intermediates), and a day's row changes for reasons no extraction time
-- shows (a warning still in force at as_of, a hazard site added, a new
-- day in the calendar), so every run computes the whole calendar and
-- writes only the (division, day) rows that are new or changed
-- (delete+insert on division_risk_id); the pre_hook deletes the rows no
-- longer in the calendar (macro delete_days_outside_risk_calendar). An
-- incremental run always equals a --full-refresh.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='division_risk_id',
        pre_hook="{{ delete_days_outside_risk_calendar() }}",
    )
}}

with

events as (
    select
        *,
        {{ local_date('occurred_at') }} as event_date,
        case severity when 'extreme' then 4 when 'severe' then 3 when 'moderate' then 2 else 1 end as severity_rank
    from {{ ref('fct_hazard_event') }}
),

warning_days as (select * from {{ ref('int_warning_days_spread') }}),

grid as (
    select divisions.code12 as division_code, divisions.name as division_name, cast(days.risk_day as date) as risk_date
    from {{ ref('ref_divisions') }} as divisions
    cross join generate_series(
        {{ risk_calendar_day('first', 'events', 'warning_days') }},
        {{ risk_calendar_day('last', 'events', 'warning_days') }},
        interval '1 day'
    ) as days (risk_day)
),

event_counts as (
    select
        division_code,
        event_date,
        count(*) filter (where top_category_code = '11000') as natural_disaster_count,
        count(*) filter (where top_category_code = '12000') as accident_count,
        count(*) filter (where top_category_code = '13000') as public_health_count,
        count(*) filter (where top_category_code = '14000') as social_safety_count,
        count(*) as event_count,
        count(*) filter (where severity in ('severe', 'extreme')) as severe_event_count,
        sum(severity_rank) as severity_points
    from events
    group by division_code, event_date
),

alarm_counts as (
    select division_code, report_date, sum(alarm_count) as alarm_count
    from {{ ref('stg_police__alarm_daily_counts') }}
    group by division_code, report_date
),

sites as (
    select division_code, count(*) as site_count, count(*) filter (where risk_rank >= 3) as high_risk_site_count
    from {{ ref('dim_hazard_site') }}
    where is_current
    group by division_code
),

combined as (
    select
        grid.*,
        coalesce(event_counts.severity_points, 0) as severity_points,
        coalesce(warning_days.worst_colour_rank, 0) as worst_warning_rank,
        case
            when coalesce(warning_days.worst_colour_rank, 0) > 0 or event_counts.natural_disaster_count > 0
                then coalesce(sites.site_count, 0)
            else 0
        end as sites_threatened_count,
        case
            when coalesce(warning_days.worst_colour_rank, 0) > 0 or event_counts.natural_disaster_count > 0
                then coalesce(sites.high_risk_site_count, 0)
            else 0
        end as high_risk_sites_threatened_count,
        event_counts.natural_disaster_count, event_counts.accident_count, event_counts.public_health_count,
        event_counts.social_safety_count, event_counts.event_count, event_counts.severe_event_count,
        alarm_counts.alarm_count, warning_days.warning_count
    from grid
    left join event_counts
        on grid.division_code = event_counts.division_code and grid.risk_date = event_counts.event_date
    left join alarm_counts
        on grid.division_code = alarm_counts.division_code and grid.risk_date = alarm_counts.report_date
    left join warning_days
        on grid.division_code = warning_days.division_code and grid.risk_date = warning_days.risk_date
    left join sites on grid.division_code = sites.division_code
),

final as (
    select
        division_code || '-' || to_char(risk_date, 'YYYYMMDD') as division_risk_id,
        division_code,
        division_name,
        risk_date,
        cast(coalesce(natural_disaster_count, 0) as integer) as natural_disaster_count,
        cast(coalesce(accident_count, 0) as integer) as accident_count,
        cast(coalesce(public_health_count, 0) as integer) as public_health_count,
        cast(coalesce(social_safety_count, 0) as integer) as social_safety_count,
        cast(coalesce(event_count, 0) as integer) as hazard_event_count,
        cast(coalesce(severe_event_count, 0) as integer) as severe_event_count,
        cast(coalesce(alarm_count, 0) as integer) as non_emergency_alarm_count,
        cast(coalesce(warning_count, 0) as integer) as warning_count,
        (array['Blue', 'Yellow', 'Orange', 'Red'])[nullif(worst_warning_rank, 0)] as worst_warning_colour,
        cast(worst_warning_rank as integer) as worst_warning_rank,
        cast(sites_threatened_count as integer) as sites_threatened_count,
        cast(high_risk_sites_threatened_count as integer) as high_risk_sites_threatened_count,
        cast(
            {{ var('hazard_risk_weight_warning') }} * worst_warning_rank
            + {{ var('hazard_risk_weight_event') }} * severity_points
            + {{ var('hazard_risk_weight_site') }} * sites_threatened_count
            as double precision
        ) as risk_score
    from combined
)

select * from final
-- Only the (division, day) rows that are new or changed.
{{ except_stored_rows() }}
