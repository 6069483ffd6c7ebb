{#-
  The day the enterprise marts judge deadlines and licence validity against:
  the var `enterprise_as_of_date` (or a platform-wide `as_of_date` passed with
  --vars), default today in Asia/Shanghai (the session's current_date may be a
  UTC day). e.g. dbt build --vars '{as_of_date: "2026-11-29"}'
-#}
{% macro enterprise_as_of_date() -%}
{%- set day = var('enterprise_as_of_date', none) or var('as_of_date', none) -%}
{%- if day -%}
date '{{ day }}'
{%- else -%}
cast(now() at time zone 'Asia/Shanghai' as date)
{%- endif -%}
{%- endmacro %}
