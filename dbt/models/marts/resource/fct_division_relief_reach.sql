-- One row per town and key relief material (ref_relief_need_basis): the
-- quantity needed under the design disaster against the quantity that reaches
-- the town within the plan's 10-hour target (int_division_relief_quantities_reached).
with

reached as (
    select * from {{ ref('int_division_relief_quantities_reached') }}
),

final as (
    select
        division_relief_id,
        division_code,
        division_name,
        need_item_code,
        need_item_name,
        material_code,
        unit,
        population,
        displaced_share,
        cast(displaced_people as integer) as displaced_people,
        cast(need_quantity as double precision) as need_quantity,
        reachable_quantity,
        cast(shortfall_quantity as double precision) as shortfall_quantity,
        is_quantity_reached_within_target,
        depots_within_target_count,
        basis_code_status,
        cast({{ var('reserve_reach_target_hours') }} as double precision) as reach_target_hours
    from reached
)

select * from final
