{#-
    The moment warning lifecycles (fct_warning) and the risk calendar are
    evaluated at: var `as_of` (an ISO 8601 timestamp, e.g.
    --vars '{as_of: "2026-11-28T20:00:00+08:00"}') or, by default, the time
    of the build. Deliberately not declared in dbt_project.yml so that no
    other domain's var can collide with it.
-#}
{% macro hazard_as_of() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as timestamptz)
    {%- else -%}
        current_timestamp
    {%- endif -%}
{%- endmacro %}
