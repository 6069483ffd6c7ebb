{#-
    A free-text reason (quarantine, the city's doubts) with the values it
    quotes masked as '…': text in quotes, decimals, digit runs of 4 or more
    (a code, an ID or phone number) and tokens of 6 or more letters, digits
    and underscores holding a digit (a pseudonym key, a record key). What
    remains names the rule, not the record, and groups equal rules together.
-#}
{% macro masked_reason(column) -%}
regexp_replace({{ column }}, '''[^'']*''|"[^"]*"|-?[0-9]+\.[0-9]+|[0-9]{4,}|(?=[A-Za-z_]*[0-9])[A-Za-z0-9_]{6,}', '…', 'g')
{%- endmacro %}
