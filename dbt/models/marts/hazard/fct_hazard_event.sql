-- One row per real-world hazard event from every source, in one shape:
-- weather threshold breaches and CAP warning chains (weather), rain, river
-- and reservoir threshold breaches (water), emergency 110 alarms and road
-- accidents (police), road events (transport). Each source's events are
-- built in intermediate/hazard (see each model for its event, time and
-- severity rules); here they are unioned, named from ref_event_categories
-- and given their report lag.
-- Incremental by difference: the events are small next to the readings they
-- come from (the incremental intermediates do the heavy work), so every run
-- unions them all, and writes only the events whose row differs from the
-- stored one (delete+insert on event_id); the pre_hook deletes events no
-- source yields any more (a correction that removes a breach, a merged or
-- shortened episode). Whatever changed a row (a late reading, a station
-- moved, a warning expiring at as_of, a new category name) is caught, so an
-- incremental run always equals a --full-refresh.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_id',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where event_id not in ("
            ~ "{{ hazard_event_ids() }}){% endif %}",
    )
}}

with

events as (
    {% for model in hazard_event_models() -%}
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
),

final as (
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
        cast(floor(extract(epoch from events.reported_at - events.occurred_at) / 60) as integer)
            as report_lag_minutes,
        events.division_code,
        events.lon,
        events.lat,
        events.severity,
        events.status,
        events.description
    from events
    left join categories on events.category_code = categories.code
)

select * from final
-- Only the events that are new or whose row changed (an unchanged event is not rewritten).
{{ except_stored_rows() }}
