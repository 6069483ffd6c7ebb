{#-
    Severity of a threshold breach by how far past the threshold the value
    is (vars hazard_severity_severe_ratio, hazard_severity_extreme_ratio):
    'extreme' at ≥ threshold × extreme ratio, 'severe' at ≥ threshold ×
    severe ratio, else 'moderate'. Without a threshold `value` is the ratio.
-#}
{% macro severity_past_threshold(value, threshold=none) -%}
{%- set times = threshold ~ ' * ' if threshold is not none else '' -%}
case
    when {{ value }} >= {{ times }}{{ var('hazard_severity_extreme_ratio') }} then 'extreme'
    when {{ value }} >= {{ times }}{{ var('hazard_severity_severe_ratio') }} then 'severe'
    else 'moderate'
end
{%- endmacro %}
