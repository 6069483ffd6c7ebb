{#-
    The value each weather breach kind is judged on: gale the maximum gust,
    fog the visibility (rain is graded on rolling totals, macro
    rain_windows_classified). A lateral
    subquery of one row per kind (breach_kind, measure_value) for the
    observation aliased `observation`: cross join it.
-#}
{% macro weather_breach_measures(observation) -%}
lateral (
    values
    ('gale', {{ observation }}.wind_gust_ms),
    ('fog', {{ observation }}.visibility_m)
) as measure (breach_kind, measure_value)
{%- endmacro %}
