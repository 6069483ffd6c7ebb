{#-
    The columns of a water-station breach episode as a hazard event (11A01
    flood), from event_id to status: `episodes` (station_id, started_at,
    first_reported_at, last_over_at, latest_observed_at) left-joined to
    int_water_stations_located as `stations`. Occurred when the episode
    started, reported when the platform first extracted its first reading;
    a station missing from the station master is placed at the county (and
    counted as unmapped); graded by the `severity` expression; ongoing while
    the station's latest reading is still in the episode.
-#}
{% macro water_station_event_columns(dataset, severity, episodes='episodes', stations='stations') -%}
'water-{{ dataset }}-' || {{ episodes }}.station_id || '-' || {{ local_hour_key(episodes ~ '.started_at') }} as event_id,
'water' as source,
'{{ dataset }}' as source_dataset,
{{ episodes }}.station_id || '@' || {{ utc_timestamp_text(episodes ~ '.started_at') }} as source_record_id,
'11A01' as category_code,
{{ episodes }}.started_at as occurred_at,
{{ episodes }}.first_reported_at as reported_at,
coalesce({{ stations }}.division_code, '210381000000') as division_code,
{{ stations }}.lon,
{{ stations }}.lat,
{{ severity }} as severity,
case when {{ episodes }}.last_over_at = {{ episodes }}.latest_observed_at then 'ongoing' else 'resolved' end as status
{%- endmacro %}
