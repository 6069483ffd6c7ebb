{#-
    Rolling rainfall totals and their grading (ref_rainfall_thresholds), shared by the
    rain gauges (int_rain_windows_totalled) and the weather stations
    (int_weather_rain_windows_totalled). `hours` is a relation or CTE of one row per
    reported (station_id, rain_hour) with rainfall_mm, reported_at, source_extracted_at
    and the columns named in `carry`.

    Totals end at a reported hour and cover the 1, 3, 6, 12 and 24 clock hours up to it
    (a RANGE frame over the hour, not a count of rows): an hour the station did not
    report inside the window counts as 0 mm, so a total is a lower bound and a
    threshold it reaches was reached. No total is made for an hour the station did
    not report itself.

    Graded by the highest event threshold reached (event_rank: severity first), the
    GB/T 28592 level of the 12 h and 24 h totals, and 短时强降水 (1 h ≥ 20 mm).
    is_onset: the severity rose from the station's previous reported hour (0 when
    that is more than 24 hours back), so one storm makes one event per severity it
    reaches, not one per hour.
-#}
{% macro rain_windows_classified(hours, carry=[]) -%}
totals as (
    select
        station_id,
        rain_hour,
        {% for column in carry -%}
        {{ column }},
        {% endfor -%}
        cast(rainfall_mm as double precision) as total_1h_mm,
        {% for hours_in_window in [3, 6, 12, 24] -%}
        cast(round(cast(sum(rainfall_mm) over (
            by_station range between interval '{{ hours_in_window - 1 }} hours' preceding and current row
        ) as numeric), 1) as double precision) as total_{{ hours_in_window }}h_mm,
        {% endfor -%}
        cast(count(*) over (
            by_station range between interval '23 hours' preceding and current row
        ) as integer) as reported_hours_24h,
        lag(rain_hour) over by_station as previous_hour,
        reported_at,
        source_extracted_at
    from {{ hours }}
    window by_station as (partition by station_id order by rain_hour)
),

rain_thresholds as (
    select * from {{ ref('ref_rainfall_thresholds') }}
),

classified as (
    select
        totals.*,
        level_12h.name_zh as rain_level_12h,
        level_24h.name_zh as rain_level_24h,
        exists (
            select 1 from rain_thresholds as t
            where t.scheme = 'short_duration' and totals.total_1h_mm >= t.lower_mm
        ) as is_short_duration_heavy,
        reached.threshold_id,
        reached.scheme as threshold_scheme,
        reached.name_zh as threshold_name,
        reached.window_hours as threshold_window_hours,
        reached.total_mm as threshold_total_mm,
        reached.event_rank as threshold_rank,
        reached.severity,
        case reached.severity
            when 'extreme' then 4 when 'severe' then 3 when 'moderate' then 2 when 'minor' then 1 else 0
        end as severity_rank
    from totals
    left join lateral (
        select t.name_zh from rain_thresholds as t
        where t.scheme = 'level' and t.window_hours = 12 and totals.total_12h_mm >= t.lower_mm
        order by t.lower_mm desc limit 1
    ) as level_12h on true
    left join lateral (
        select t.name_zh from rain_thresholds as t
        where t.scheme = 'level' and t.window_hours = 24 and totals.total_24h_mm >= t.lower_mm
        order by t.lower_mm desc limit 1
    ) as level_24h on true
    left join lateral (
        select t.threshold_id, t.scheme, t.name_zh, t.window_hours, t.event_rank, t.severity, windows.total_mm
        from rain_thresholds as t
        inner join (
            values
            (1, totals.total_1h_mm), (3, totals.total_3h_mm), (6, totals.total_6h_mm),
            (12, totals.total_12h_mm), (24, totals.total_24h_mm)
        ) as windows (window_hours, total_mm) on t.window_hours = windows.window_hours
        where t.is_event and windows.total_mm >= t.lower_mm
        order by t.event_rank desc limit 1
    ) as reached on true
),

graded as (
    select
        *,
        case
            when previous_hour >= rain_hour - interval '24 hours'
                then lag(severity_rank) over (partition by station_id order by rain_hour)
            else 0
        end as previous_severity_rank
    from classified
)
{%- endmacro %}

{#- The totals' columns as published by both window models (after `carry`). -#}
{% macro rain_window_columns() -%}
total_1h_mm,
total_3h_mm,
total_6h_mm,
total_12h_mm,
total_24h_mm,
reported_hours_24h,
rain_level_12h,
rain_level_24h,
is_short_duration_heavy,
threshold_id,
threshold_scheme,
threshold_name,
threshold_window_hours,
threshold_total_mm,
threshold_rank,
severity,
severity_rank,
previous_severity_rank,
severity_rank > previous_severity_rank as is_onset,
reported_at,
source_extracted_at
{%- endmacro %}

{#-
    The event text of a graded rain window: the window, its total and what it reached,
    e.g. "24小时降水 120.0 mm 大暴雨" or "3小时降水 100.0 mm 达暴雨红色预警信号标准"
    (observed totals reaching the signal's criterion; no signal was issued by us).
-#}
{% macro rain_window_text() -%}
(
    threshold_window_hours || '小时降水 ' || to_char(threshold_total_mm, 'FM999990.0') || ' mm '
    || case when threshold_scheme = 'signal' then '达' || threshold_name || '标准' else threshold_name end
)
{%- endmacro %}
