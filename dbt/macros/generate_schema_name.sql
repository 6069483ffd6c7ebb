{#-
    Custom schemas are used as they are (staging, intermediate, marts, ref),
    not prefixed with the target schema as dbt does by default: the schemas
    are the platform's interface (Superset, GX, sync and grants name them).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
