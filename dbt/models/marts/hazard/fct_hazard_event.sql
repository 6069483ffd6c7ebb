-- One row per real-world hazard event from every source, in one shape:
-- weather threshold breaches and CAP warning chains (weather), rain, river
-- and reservoir threshold breaches (water), emergency 110 alarms and road
-- accidents (police), road events (transport). Each source's events are
-- built in intermediate/hazard (see each model for its event, time and
-- severity rules); here they are unioned, named from ref_event_categories
-- and given their report lag.
{%- set event_models = [
    'int_weather_breach_events_grouped',
    'int_warning_events_chained',
    'int_rain_breach_events_grouped',
    'int_river_breach_events_detected',
    'int_reservoir_breach_events_detected',
    'int_alarms_classified',
    'int_accidents_graded',
    'int_road_events_classified',
] %}

with

events as (
    {% for model in event_models -%}
    select
        event_id, source, source_dataset, source_record_id, category_code, occurred_at, reported_at,
        division_code, lon, lat, severity, status, description
    from {{ ref(model) }}
    where is_hazard_event
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

categories as (
    select * from {{ ref('ref_event_categories') }}
)

select
    events.event_id,
    events.source,
    events.source_dataset,
    events.source_record_id,
    events.category_code,
    categories.name as category_name,
    categories.top_code as top_category_code,
    events.occurred_at,
    events.reported_at,
    cast(floor(extract(epoch from events.reported_at - events.occurred_at) / 60) as integer) as report_lag_minutes,
    events.division_code,
    events.lon,
    events.lat,
    events.severity,
    events.status,
    events.description
from events
left join categories on events.category_code = categories.code
