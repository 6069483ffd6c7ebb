-- Stock per reserve site and material (code and specification) against the
-- quantity the plan requires (储备标准数量). shortfall = required − stock when
-- positive, else 0 (NULL when either is unknown). Expiry is judged on
-- var as_of_date (macro as_of_date; unset: today in 海城市): 'expired' when 有效期至 is
-- before it, 'expiring' when within var expiring_within_days after it.
with

stock as (
    select * from {{ ref('int_material_stock_classified') }}
),

params as (
    select
        {{ as_of_date() }} as as_of_date,
        cast({{ var('expiring_within_days') }} as integer) as expiring_within_days
),

assessed as (
    select
        stock.material_stock_id,
        'depot:' || stock.depot_id as resource_site_id,
        stock.depot_id,
        stock.depot_name,
        stock.depot_level,
        stock.division_code,
        stock.material_code,
        stock.material_class_code,
        stock.material_class_name,
        stock.material_name,
        stock.spec,
        stock.unit,
        stock.unit_raw,
        stock.stock_quantity,
        stock.required_quantity,
        case
            when stock.required_quantity is not null and stock.stock_quantity is not null
                then greatest(stock.required_quantity - stock.stock_quantity, 0)
        end as shortfall_quantity,
        stock.stock_quantity < stock.required_quantity as is_below_required,
        stock.stock_quantity / nullif(stock.required_quantity, 0) as stock_ratio,
        stock.production_date,
        stock.expiry_date,
        stock.expiry_date - params.as_of_date as days_to_expiry,
        coalesce(stock.expiry_date < params.as_of_date, false) as is_expired,
        coalesce(
            stock.expiry_date between params.as_of_date and params.as_of_date + params.expiring_within_days, false
        ) as is_expiring,
        params.as_of_date,
        stock.updated_date,
        stock.workbook_version,
        stock.extracted_at as source_extracted_at
    from stock
    cross join params
),

final as (
    select
        *,
        case
            when expiry_date is null then 'no_expiry'
            when is_expired then 'expired'
            when is_expiring then 'expiring'
            else 'valid'
        end as expiry_status
    from assessed
)

select * from final
