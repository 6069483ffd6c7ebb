{#-
    The intermediate models whose rows (where is_hazard_event) are the
    events of fct_hazard_event, one per source dataset family.
-#}
{% macro hazard_event_models() -%}
{{ return([
    'int_weather_breach_events_grouped',
    'int_warning_events_chained',
    'int_rain_breach_events_grouped',
    'int_river_breach_events_detected',
    'int_reservoir_breach_events_detected',
    'int_alarms_classified',
    'int_accidents_graded',
    'int_road_events_classified',
    'int_reported_events_graded',
]) }}
{%- endmacro %}

{#- Every event_id the event models yield now: what fct_hazard_event may keep. -#}
{% macro hazard_event_ids() -%}
{%- for model in hazard_event_models() -%}
select event_id from {{ ref(model) }} where is_hazard_event
{%- if not loop.last %} union all {% endif -%}
{%- endfor -%}
{%- endmacro %}

{#-
    fct_division_daily_risk's calendar: from the first day with a hazard
    event or a warning in force to the as_of day (or the last event's day,
    if later). `bound` is 'first' or 'last'.
-#}
{% macro risk_calendar_day(bound, events, warning_days) -%}
{%- if bound == 'first' -%}
(select least(min({{ local_date('occurred_at') }}), (select min(risk_date) from {{ warning_days }})) from {{ events }})
{%- else -%}
greatest((select max({{ local_date('occurred_at') }}) from {{ events }}), {{ local_date(as_of()) }})
{%- endif -%}
{%- endmacro %}

{#-
    pre_hook of the incremental fct_division_daily_risk: delete the rows
    outside the calendar as it is now (the first event or warning gone, an
    earlier as_of, a division gone from ref_divisions); delete+insert
    replaces only rows the model still yields. Nothing on a full build.
-#}
{% macro delete_days_outside_risk_calendar() -%}
{%- if is_incremental() -%}
delete from {{ this }}
where
    risk_date < {{ risk_calendar_day('first', ref('fct_hazard_event'), ref('int_warning_days_spread')) }}
    or risk_date > {{ risk_calendar_day('last', ref('fct_hazard_event'), ref('int_warning_days_spread')) }}
    or division_code not in (select code12 from {{ ref('ref_divisions') }})
{%- endif -%}
{%- endmacro %}
