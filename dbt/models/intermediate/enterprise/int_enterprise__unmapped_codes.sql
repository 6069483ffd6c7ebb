-- Source code values of the enterprise sources that do not resolve to their
-- standard code table, counted per source, table and column (a NULL source
-- value is missing, not unmapped, and is not counted). The rows themselves
-- are kept downstream with the resolved column NULL. Division codes are
-- checked only where they lie in 海城市 (waybill ends outside it carry
-- other counties' codes, which ref_divisions does not list).
{%- set home = var('enterprise_home_county_code') %}
{%- set checks = [
    ('stg_bureau__chemical_enterprises', 'bureau', 'chemical_enterprises', 'major_hazard_level', 'major_hazard_level', 'ref_major_hazard_levels', 'level_code', 'true'),
    ('stg_bureau__chemical_enterprises', 'bureau', 'chemical_enterprises', 'division_code', 'division_code', 'ref_divisions', 'code12', 'true'),
    ('stg_bureau__safety_hazards', 'bureau', 'safety_hazards', 'hazard_level', 'hazard_level', 'ref_hazard_levels', 'level_code', 'true'),
    ('stg_police__key_units', 'police', 'key_units', 'license_type', 'licence_type', 'ref_licence_types', 'licence_type', 'true'),
    ('stg_police__key_units', 'police', 'key_units', 'division_code', 'division_code', 'ref_divisions', 'code12', 'true'),
    ('stg_transport__hazmat_carriers', 'transport', 'hazmat_carriers', 'division_code', 'division_code', 'ref_divisions', 'code12', 'true'),
    ('stg_transport__hazmat_waybills', 'transport', 'hazmat_waybills', 'hazard_class', 'hazard_class', 'ref_dangerous_goods_classes', 'class_code', 'true'),
    ('stg_transport__hazmat_waybills', 'transport', 'hazmat_waybills', 'origin_division_code', 'origin_division_code', 'ref_divisions', 'code12', "origin_division_code like '" ~ home ~ "%'"),
    ('stg_transport__hazmat_waybills', 'transport', 'hazmat_waybills', 'destination_division_code', 'destination_division_code', 'ref_divisions', 'code12', "destination_division_code like '" ~ home ~ "%'"),
    ('stg_natural_resources__mining_rights', 'natural_resources', 'mining_rights', 'xzqh', 'division_code', 'ref_divisions', 'code12', 'true'),
] %}

with

{% for model, source_name, table_name, column_name, raw_col, code_table, code_col, applies in checks %}
check_{{ loop.index }} as (
    select
        '{{ source_name }}' as source_name, '{{ table_name }}' as table_name, '{{ column_name }}' as column_name,
        '{{ code_table }}' as code_table, cast(t.{{ raw_col }} as text) as unmapped_value, count(*) as row_count
    from {{ ref(model) }} as t
    left join {{ ref(code_table) }} as c on t.{{ raw_col }} = c.{{ code_col }}
    where t.{{ raw_col }} is not null and c.{{ code_col }} is null and {{ applies }}
    group by t.{{ raw_col }}
),
{% endfor %}

-- Carriers' licensed scopes: every class in the list must resolve.
scope_classes as (
    select
        'transport' as source_name, 'hazmat_carriers' as table_name, 'scope' as column_name,
        'ref_dangerous_goods_classes' as code_table, s.class_code as unmapped_value, count(*) as row_count
    from {{ ref('stg_transport__hazmat_carriers') }} as t
    cross join lateral jsonb_array_elements_text(t.scope_classes) as s (class_code)
    left join {{ ref('ref_dangerous_goods_classes') }} as c on s.class_code = c.class_code
    where c.class_code is null
    group by s.class_code
),

unioned as (
    {% for _ in checks %}
    select * from check_{{ loop.index }}
    union all
    {% endfor %}
    select * from scope_classes
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
