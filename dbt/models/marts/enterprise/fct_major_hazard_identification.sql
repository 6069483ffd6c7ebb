-- GB 18218-2018 危险化学品重大危险源辨识与分级, one row per enterprise of the
-- bureau's chemicals register: S = Σ qᵢ/Qᵢ (a major hazard when S ≥ 1, 4.2),
-- R = α Σ βᵢ qᵢ/Qᵢ and its level (4.3, 表6), compared with the declared level.
-- α (表5) counts people within 500 m outside the plant; the register has no
-- such count, so it is estimated from the division's population density
-- (常住人口 / 面积 × π r², r = var gb18218_exposure_radius_km), else var
-- gb18218_default_alpha. Enterprises whose quantities are not itemised get no
-- S, R or level (flagged); unidentified chemicals are counted and listed.
with

enterprises as (
    select * from {{ ref('stg_bureau__chemical_enterprises') }}
),

items as (
    select * from {{ ref('int_enterprise_chemicals_identified') }}
),

divisions as (
    select * from {{ ref('stg_bureau__division_facts') }}
),

exposure_bands as (
    select * from {{ ref('ref_gb18218_exposure_factors') }}
),

levels as (
    select * from {{ ref('ref_major_hazard_levels') }}
    where is_major_hazard
),

totals as (
    select
        credit_code,
        count(*) as chemical_item_count,
        count(*) filter (where is_identified) as identified_chemical_count,
        count(*) filter (where not is_identified) as unidentified_chemical_count,
        string_agg(coalesce(chemical_name_raw, item_text), '、' order by item_no) filter (where not is_identified)
            as unidentified_chemicals,
        bool_or(quantity_basis = 'not_itemised') as has_unitemised_quantity,
        coalesce(sum(quantity_t / critical_quantity_t), 0) as s_value,
        coalesce(sum(beta * quantity_t / critical_quantity_t), 0) as beta_weighted_sum
    from items
    group by credit_code
),

exposed as (
    select
        enterprises.credit_code,
        cast(floor(
            divisions.population / nullif(divisions.area_km2, 0)
            * pi() * {{ var('gb18218_exposure_radius_km') }} ^ 2
        ) as integer) as estimated_exposed_persons
    from enterprises
    left join divisions on enterprises.division_code = divisions.division_code
),

assessed as (
    select
        enterprises.credit_code,
        enterprises.enterprise_name,
        enterprises.enterprise_type,
        enterprises.division_code,
        enterprises.main_chemicals,
        enterprises.max_storage_t,
        enterprises.major_hazard_level as declared_level,
        coalesce(totals.chemical_item_count, 0) as chemical_item_count,
        coalesce(totals.identified_chemical_count, 0) as identified_chemical_count,
        coalesce(totals.unidentified_chemical_count, 0) as unidentified_chemical_count,
        totals.unidentified_chemicals,
        totals.credit_code is not null and not totals.has_unitemised_quantity as is_computable,
        totals.has_unitemised_quantity,
        totals.s_value,
        totals.beta_weighted_sum,
        exposed.estimated_exposed_persons,
        cast(coalesce(exposure_bands.alpha, {{ var('gb18218_default_alpha') }}) as numeric) as alpha,
        case
            when exposure_bands.alpha is not null then 'division_density_estimate'
            else 'default_var'
        end as alpha_basis
    from enterprises
    left join totals on enterprises.credit_code = totals.credit_code
    left join exposed on enterprises.credit_code = exposed.credit_code
    left join exposure_bands
        on
            exposed.estimated_exposed_persons >= exposure_bands.persons_min
            and (exposed.estimated_exposed_persons <= exposure_bands.persons_max or exposure_bands.persons_max is null)
),

graded as (
    select
        assessed.*,
        case when assessed.is_computable then assessed.s_value end as s,
        case when assessed.is_computable then assessed.alpha * assessed.beta_weighted_sum end as r,
        case
            when not assessed.is_computable then null
            when assessed.s_value < 1 then '无'
            else levels.level_code
        end as computed_level
    from assessed
    left join levels
        on
            assessed.alpha * assessed.beta_weighted_sum >= levels.r_min
            and (assessed.alpha * assessed.beta_weighted_sum < levels.r_max or levels.r_max is null)
)

select
    credit_code as enterprise_id,
    enterprise_name,
    enterprise_type,
    division_code,
    main_chemicals,
    cast(max_storage_t as numeric) as max_storage_t,
    cast(chemical_item_count as integer) as chemical_item_count,
    cast(identified_chemical_count as integer) as identified_chemical_count,
    cast(unidentified_chemical_count as integer) as unidentified_chemical_count,
    unidentified_chemicals,
    is_computable,
    case
        when chemical_item_count = 0 then 'no_chemicals'
        when has_unitemised_quantity then 'quantities_not_itemised'
        when unidentified_chemical_count > 0 then 'unidentified_chemicals'
        else 'identified'
    end as identification_status,
    trim_scale(round(cast(s as numeric), 4)) as s_value,
    s >= 1 as is_major_hazard,
    estimated_exposed_persons,
    alpha,
    alpha_basis,
    trim_scale(round(cast(r as numeric), 4)) as r_value,
    computed_level,
    declared_level,
    case when computed_level is not null then coalesce(computed_level <> declared_level, true) end as grade_disagrees
from graded
