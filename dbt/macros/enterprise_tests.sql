{#- Generic data tests of the enterprise marts. -#}

{#- Every non-null value is a valid 统一社会信用代码 (GB 32100, macro enterprise_credit_code_invalid_reason). -#}
{% test enterprise_valid_credit_code(model, column_name) %}
select {{ column_name }}, {{ enterprise_credit_code_invalid_reason(column_name) }} as reason
from {{ model }}
where {{ column_name }} is not null
    and {{ enterprise_credit_code_invalid_reason(column_name) }} is not null
{% endtest %}

{#- No non-null value of the column appears in `to`.`field` (the inverse of relationships). -#}
{% test enterprise_not_in(model, column_name, to, field) %}
select m.{{ column_name }}
from {{ model }} as m
inner join {{ to }} as t on m.{{ column_name }} = t.{{ field }}
{% endtest %}
