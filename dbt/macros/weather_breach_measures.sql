{#-
    The value each weather breach kind is judged on: rainstorm the hourly
    precipitation, gale the maximum gust, fog the visibility. A lateral
    subquery of one row per kind (breach_kind, measure_value) for the
    observation aliased `observation`: cross join it.
-#}
{% macro weather_breach_measures(observation) -%}
lateral (
    values
    ('rainstorm', {{ observation }}.precip_1h_mm),
    ('gale', {{ observation }}.wind_gust_ms),
    ('fog', {{ observation }}.visibility_m)
) as measure (breach_kind, measure_value)
{%- endmacro %}
