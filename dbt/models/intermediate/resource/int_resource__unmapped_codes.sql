-- Source code values of the resource registers that do not resolve to their
-- standard code table, counted per source, table and column (a NULL source
-- value is missing, not unmapped, and is not counted). The rows themselves
-- are kept downstream with the mapped column NULL.
{%- set checks = [
    ('int_material_stock_classified', 'bureau', 'material_stock', 'material_code', 'material_code', 'material_class_code', 'ref_material_classes'),
    ('int_material_stock_classified', 'bureau', 'material_stock', 'unit_raw', 'unit_raw', "case when is_unit_mapped then unit end", 'ref_units'),
    ('int_material_stock_classified', 'bureau', 'material_stock', 'division_code', 'division_code_raw', 'division_code', 'ref_divisions'),
    ('int_rescue_teams_classified', 'bureau', 'rescue_teams', 'team_type', 'team_type_raw', 'team_type_code', 'ref_rescue_team_types'),
    ('int_rescue_teams_classified', 'bureau', 'rescue_teams', 'division_code', 'division_code_raw', 'division_code', 'ref_divisions'),
    ('int_shelters_classified', 'natural_resources', 'shelters', 'lb', 'shelter_class_raw', 'shelter_class_code', 'ref_shelter_classes'),
    ('int_shelters_classified', 'natural_resources', 'shelters', 'xzqh', 'division_code_raw', 'division_code', 'ref_divisions'),
] %}

with

{% for model, source_name, table_name, column_name, raw_col, mapped_col, code_table in checks %}
check_{{ loop.index }} as (
    select
        '{{ source_name }}' as source_name,
        '{{ table_name }}' as table_name,
        '{{ column_name }}' as column_name,
        '{{ code_table }}' as code_table,
        cast({{ raw_col }} as text) as unmapped_value,
        count(*) as row_count
    from {{ ref(model) }}
    where {{ raw_col }} is not null and {{ mapped_col }} is null
    group by {{ raw_col }}
),
{% endfor %}

division_facts as (
    select
        'bureau' as source_name,
        'division_facts' as table_name,
        'division_code' as column_name,
        'ref_divisions' as code_table,
        facts.division_code as unmapped_value,
        count(*) as row_count
    from {{ ref('stg_bureau__division_facts') }} as facts
    left join {{ ref('ref_divisions') }} as divisions on facts.division_code = divisions.code12
    where divisions.code12 is null
    group by facts.division_code
),

unioned as (
    {% for _ in checks %}
    select * from check_{{ loop.index }}
    union all
    {% endfor %}
    select * from division_facts
),

final as (
    select
        source_name || '.' || table_name || '.' || column_name || ':' || unmapped_value as unmapped_code_id,
        source_name,
        table_name,
        column_name,
        code_table,
        unmapped_value,
        cast(row_count as integer) as row_count
    from unioned
)

select * from final
