-- One row per reserve depot (储备库/储备点) of the stock register: its
-- attributes from its first row in the worksheet and counts of its items.
-- has_stock: at least one item with a quantity above zero (the depots that
-- can supply a division in int_division_reserve_reach_estimated).
with

stock as (
    select * from {{ ref('int_material_stock_classified') }}
),

depot_rows as (
    select distinct on (depot_id)
        depot_id,
        depot_name,
        depot_level,
        division_code_raw,
        division_code,
        division_name,
        address,
        lon,
        lat,
        workbook_version,
        extracted_at
    from stock
    order by depot_id, source_row_number nulls last
),

item_counts as (
    select
        depot_id,
        count(*) as item_count,
        count(*) filter (where stock_quantity > 0) as items_in_stock,
        count(*) filter (where stock_quantity < required_quantity) as items_below_required
    from stock
    group by depot_id
),

summarised as (
    select
        depot_rows.*,
        cast(item_counts.item_count as integer) as item_count,
        cast(item_counts.items_in_stock as integer) as items_in_stock,
        cast(item_counts.items_below_required as integer) as items_below_required,
        item_counts.items_in_stock > 0 as has_stock
    from depot_rows
    inner join item_counts on depot_rows.depot_id = item_counts.depot_id
)

select * from summarised
