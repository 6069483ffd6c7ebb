{#-
    The *__unmapped_codes models of the enterprise and resource domains:
    source code values that do not resolve to their standard code table,
    counted per source, table, column and value. A NULL source value is
    missing, not unmapped, and is not counted.

    A check is a dict: source_name, table_name, column_name (the source
    column, as the source names it), code_table (the seed) and counts (a
    query of unmapped_value, row_count). unmapped_codes(checks) is the model.
-#}

{#- A check: the values of `column` in `relation` that the seed `code_table`.`code_column` does not list, where `applies`. -#}
{% macro unmapped_in_code_table(source_name, table_name, column_name, relation, column, code_table, code_column, applies='true') -%}
{%- set counts -%}
select cast(t.{{ column }} as text) as unmapped_value, count(*) as row_count
from {{ relation }} as t
left join {{ ref(code_table) }} as c on t.{{ column }} = c.{{ code_column }}
where t.{{ column }} is not null and c.{{ code_column }} is null and {{ applies }}
group by t.{{ column }}
{%- endset -%}
{{ return({
    'source_name': source_name, 'table_name': table_name, 'column_name': column_name,
    'code_table': code_table, 'counts': counts,
}) }}
{%- endmacro %}

{#- A check: the values of `column` in `relation` (a model that mapped it against `code_table`) whose `mapped` is NULL. -#}
{% macro unmapped_after_mapping(source_name, table_name, column_name, relation, column, mapped, code_table) -%}
{%- set counts -%}
select cast({{ column }} as text) as unmapped_value, count(*) as row_count
from {{ relation }}
where {{ column }} is not null and {{ mapped }} is null
group by {{ column }}
{%- endset -%}
{{ return({
    'source_name': source_name, 'table_name': table_name, 'column_name': column_name,
    'code_table': code_table, 'counts': counts,
}) }}
{%- endmacro %}

{#- The model: the checks' counts unioned, each row keyed source.table.column:value. -#}
{% macro unmapped_codes(checks) -%}
with

{% for check in checks -%}
check_{{ loop.index }} as (
    select
        '{{ check.source_name }}' as source_name,
        '{{ check.table_name }}' as table_name,
        '{{ check.column_name }}' as column_name,
        '{{ check.code_table }}' as code_table,
        counts.unmapped_value,
        counts.row_count
    from (
        {{ check.counts | indent(8) }}
    ) as counts
),

{% endfor -%}
unioned as (
    {% for check in checks -%}
    select * from check_{{ loop.index }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    source_name || '.' || table_name || '.' || column_name || ':' || unmapped_value as unmapped_code_id,
    source_name,
    table_name,
    column_name,
    code_table,
    unmapped_value,
    cast(row_count as integer) as row_count
from unioned
{%- endmacro %}
