{#- The layer (raw, marts) and, for raw tables, the source of a checked dataset named `<schema>.<table>`
    (raw tables are `<source>__<dataset>`): the columns `layer` and `source`. -#}
{% macro checked_dataset_layer_source(column) -%}
split_part({{ column }}, '.', 1) as layer,
case
    when split_part({{ column }}, '.', 1) = 'raw' then split_part(split_part({{ column }}, '.', 2), '__', 1)
end as source
{%- endmacro %}
