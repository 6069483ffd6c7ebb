{#-
    The as_of convention of every domain: marts are evaluated as of a
    moment (var `as_of`, an ISO 8601 timestamp) or a day (var `as_of_date`,
    an ISO 8601 date), by default the time of the build and today in 海城市.
    e.g. dbt build --vars '{as_of: "2026-11-28T20:00:00+08:00", as_of_date: "2026-11-29"}'
    Neither var is declared in dbt_project.yml, so that no domain's var can
    collide with them: unset means now.
-#}

{#- The moment: var `as_of`, else the time of the build. -#}
{% macro as_of() -%}
{%- set moment = var('as_of', none) -%}
{%- if moment -%}
cast('{{ moment }}' as timestamptz)
{%- else -%}
current_timestamp
{%- endif -%}
{%- endmacro %}

{#- The day: the domain's own var `domain_var` if given and set, else var `as_of_date`, else today in 海城市. -#}
{% macro as_of_date(domain_var=none) -%}
{%- set day = (var(domain_var, none) if domain_var else none) or var('as_of_date', none) -%}
{%- if day -%}
cast('{{ day }}' as date)
{%- else -%}
{{ local_date('current_timestamp') }}
{%- endif -%}
{%- endmacro %}
