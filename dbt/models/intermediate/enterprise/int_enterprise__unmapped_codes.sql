-- Source code values of the enterprise sources that do not resolve to their
-- standard code table, counted per source, table and column (a NULL source
-- value is missing, not unmapped, and is not counted). The rows themselves
-- are kept downstream with the resolved column NULL. Division codes are
-- checked only where they lie in 海城市 (waybill ends outside it carry
-- other counties' codes, which ref_divisions does not list).
{%- set home = var('enterprise_home_county_code') %}
{%- set chemicals = ref('stg_bureau__chemical_enterprises') %}
{%- set key_units = ref('stg_police__key_units') %}
{%- set waybills = ref('stg_transport__hazmat_waybills') %}

{#- Carriers' licensed scopes: every class in the list must resolve. -#}
{%- set scope_classes -%}
select s.class_code as unmapped_value, count(*) as row_count
from {{ ref('stg_transport__hazmat_carriers') }} as t
cross join lateral jsonb_array_elements_text(t.scope_classes) as s (class_code)
left join {{ ref('ref_dangerous_goods_classes') }} as c on s.class_code = c.class_code
where c.class_code is null
group by s.class_code
{%- endset %}

{{ unmapped_codes([
    unmapped_in_code_table('bureau', 'chemical_enterprises', 'major_hazard_level',
        chemicals, 'major_hazard_level', 'ref_major_hazard_levels', 'level_code'),
    unmapped_in_code_table('bureau', 'chemical_enterprises', 'division_code',
        chemicals, 'division_code', 'ref_divisions', 'code12'),
    unmapped_in_code_table('bureau', 'safety_hazards', 'hazard_level',
        ref('stg_bureau__safety_hazards'), 'hazard_level', 'ref_hazard_levels', 'level_code'),
    unmapped_in_code_table('police', 'key_units', 'license_type',
        key_units, 'licence_type', 'ref_licence_types', 'licence_type'),
    unmapped_in_code_table('police', 'key_units', 'division_code',
        key_units, 'division_code', 'ref_divisions', 'code12'),
    unmapped_in_code_table('transport', 'hazmat_carriers', 'division_code',
        ref('stg_transport__hazmat_carriers'), 'division_code', 'ref_divisions', 'code12'),
    unmapped_in_code_table('transport', 'hazmat_waybills', 'hazard_class',
        waybills, 'hazard_class', 'ref_dangerous_goods_classes', 'class_code'),
    unmapped_in_code_table('transport', 'hazmat_waybills', 'origin_division_code',
        waybills, 'origin_division_code', 'ref_divisions', 'code12', "origin_division_code like '" ~ home ~ "%'"),
    unmapped_in_code_table('transport', 'hazmat_waybills', 'destination_division_code',
        waybills, 'destination_division_code', 'ref_divisions', 'code12',
        "destination_division_code like '" ~ home ~ "%'"),
    unmapped_in_code_table('natural_resources', 'mining_rights', 'xzqh',
        ref('stg_natural_resources__mining_rights'), 'division_code', 'ref_divisions', 'code12'),
    {'source_name': 'transport', 'table_name': 'hazmat_carriers', 'column_name': 'scope',
        'code_table': 'ref_dangerous_goods_classes', 'counts': scope_classes},
]) }}
