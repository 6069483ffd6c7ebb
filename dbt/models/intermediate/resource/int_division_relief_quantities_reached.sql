-- For each town and each key material of ref_relief_need_basis: the quantity
-- needed under the design disaster, need = ceil(population ×
-- relief_displaced_share × quantity_per_100_people / 100 × basis_days), and
-- the quantity that reaches the town within the target: the stock of that
-- material code summed over every depot whose estimated travel time is within
-- reserve_reach_target_hours (int_division_depot_travel_estimated; at the
-- target counts as within). A town
-- without a known population has a NULL need; without a known centre, no
-- depot is within reach.
with

towns as (
    select code12 as division_code, name as division_name
    from {{ ref('ref_divisions') }}
    where level = 'town'
),

facts as (
    select * from {{ ref('stg_bureau__division_facts') }}
),

basis as (
    select * from {{ ref('ref_relief_need_basis') }}
),

travel as (
    select * from {{ ref('int_division_depot_travel_estimated') }}
    where travel_hours <= {{ var('reserve_reach_target_hours') }}
),

stock as (
    select * from {{ ref('int_material_stock_classified') }}
    where stock_quantity > 0
),

reached as (
    select
        travel.division_code,
        stock.material_code,
        sum(stock.stock_quantity) as reachable_quantity,
        count(distinct stock.depot_id) as depots_within_target_count,
        max(travel.travel_hours) as slowest_depot_travel_hours
    from travel
    inner join stock on travel.depot_id = stock.depot_id
    group by travel.division_code, stock.material_code
),

needs as (
    select
        towns.division_code || '|' || basis.need_item_code as division_relief_id,
        towns.division_code,
        towns.division_name,
        basis.need_item_code,
        basis.need_item_name,
        basis.material_code,
        basis.unit,
        cast(facts.population as integer) as population,
        cast({{ var('relief_displaced_share') }} as double precision) as displaced_share,
        ceil(facts.population * {{ var('relief_displaced_share') }}) as displaced_people,
        ceil(
            facts.population * {{ var('relief_displaced_share') }}
            * basis.quantity_per_100_people / 100.0 * basis.basis_days
        ) as need_quantity,
        basis.code_status as basis_code_status
    from towns
    cross join basis
    left join facts on towns.division_code = facts.division_code
),

final as (
    select
        needs.*,
        cast(coalesce(reached.reachable_quantity, 0) as double precision) as reachable_quantity,
        cast(coalesce(reached.depots_within_target_count, 0) as integer) as depots_within_target_count,
        case
            when needs.need_quantity is not null
                then greatest(needs.need_quantity - coalesce(reached.reachable_quantity, 0), 0)
        end as shortfall_quantity,
        coalesce(reached.reachable_quantity, 0) >= needs.need_quantity as is_quantity_reached_within_target
    from needs
    left join reached
        on
            needs.division_code = reached.division_code
            and needs.material_code = reached.material_code
)

select * from final
