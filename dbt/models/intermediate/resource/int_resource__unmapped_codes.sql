-- Source code values of the resource registers that do not resolve to their
-- standard code table, counted per source, table and column (a NULL source
-- value is missing, not unmapped, and is not counted). The rows themselves
-- are kept downstream with the mapped column NULL. The registers are mapped
-- by the int_*_classified models; the division facts are looked up here: a
-- town's code in ref_divisions, a village's (stand-in, fourth level) by its
-- town, so a village under a known town is not unmapped.
{%- set stock = ref('int_material_stock_classified') %}
{%- set teams = ref('int_rescue_teams_classified') %}
{%- set shelters = ref('int_shelters_classified') %}
{%- set village_under_unknown_town -%}
(t.division_level is distinct from 'village'
    or not exists (select 1 from {{ ref('ref_divisions') }} as d where d.code12 = t.town_code))
{%- endset %}

{{ unmapped_codes([
    unmapped_after_mapping('bureau', 'material_stock', 'material_code',
        stock, 'material_code', 'material_class_code', 'ref_material_classes'),
    unmapped_after_mapping('bureau', 'material_stock', 'unit_raw',
        stock, 'unit_raw', 'case when is_unit_mapped then unit end', 'ref_units'),
    unmapped_after_mapping('bureau', 'material_stock', 'division_code',
        stock, 'division_code_raw', 'division_code', 'ref_divisions'),
    unmapped_after_mapping('bureau', 'rescue_teams', 'team_type',
        teams, 'team_type_raw', 'team_type_code', 'ref_rescue_team_types'),
    unmapped_after_mapping('bureau', 'rescue_teams', 'division_code',
        teams, 'division_code_raw', 'division_code', 'ref_divisions'),
    unmapped_after_mapping('natural_resources', 'shelters', 'lb',
        shelters, 'shelter_class_raw', 'shelter_class_code', 'ref_shelter_classes'),
    unmapped_after_mapping('natural_resources', 'shelters', 'xzqh',
        shelters, 'division_code_raw', 'division_code', 'ref_divisions'),
    unmapped_in_code_table('bureau', 'division_facts', 'division_code',
        ref('stg_bureau__division_facts'), 'division_code', 'ref_divisions', 'code12',
        applies=village_under_unknown_town),
]) }}
