{#-
    A free-text reason (quarantine, the city's doubts) with the values it
    quotes masked as '…': text in quotes, decimals, and digit runs of 4 or
    more (a code, an ID or phone number). What remains names the rule, not
    the record, and groups equal rules together.
-#}
{% macro masked_reason(column) -%}
regexp_replace({{ column }}, '''[^'']*''|"[^"]*"|-?[0-9]+\.[0-9]+|[0-9]{4,}', '…', 'g')
{%- endmacro %}
