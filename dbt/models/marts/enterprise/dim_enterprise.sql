-- One golden record per enterprise, keyed by its validated 统一社会信用代码.
-- Name, division and address survive by source priority
-- (int_enterprise_attribute_values_ranked); flags and licences come from
-- int_enterprise_roles_aggregated; conflict_count counts fct_enterprise_conflict.
with

roles as (
    select * from {{ ref('int_enterprise_roles_aggregated') }}
),

golden as (
    select
        enterprise_id,
        max(value) filter (where attribute = 'enterprise_name') as enterprise_name,
        max(source) filter (where attribute = 'enterprise_name') as enterprise_name_source,
        max(value) filter (where attribute = 'division_code') as division_code,
        max(source) filter (where attribute = 'division_code') as division_code_source,
        max(value) filter (where attribute = 'address') as address
    from {{ ref('int_enterprise_attribute_values_ranked') }}
    where survivor_rank = 1
    group by enterprise_id
),

conflicts as (
    select enterprise_id, count(*) as conflict_count
    from {{ ref('fct_enterprise_conflict') }}
    group by enterprise_id
)

select
    roles.enterprise_id,
    golden.enterprise_name,
    golden.enterprise_name_source,
    golden.division_code,
    divisions.name as division_name,
    golden.division_code_source,
    golden.address,
    roles.lon,
    roles.lat,
    substr(roles.enterprise_id, 3, 6) = '{{ var("enterprise_home_county_code") }}' as is_registered_in_haicheng,
    roles.is_hazmat_producer_or_storer,
    roles.is_in_chemicals_register,
    roles.chemical_enterprise_type,
    roles.major_hazard_level,
    roles.is_hazmat_carrier,
    roles.is_licensed_carrier,
    roles.carrier_licence_no,
    roles.carrier_licence_valid_to_date,
    roles.carrier_scope,
    roles.waybill_count_as_carrier,
    roles.waybill_count_as_consignor,
    roles.has_civil_explosives_licence,
    roles.licence_types,
    roles.is_mining,
    roles.mining_right_count,
    roles.valid_mining_right_count,
    roles.source_systems,
    roles.source_count,
    cast(coalesce(conflicts.conflict_count, 0) as integer) as conflict_count,
    {{ as_of_date('enterprise_as_of_date') }} as as_of_date
from roles
left join golden on roles.enterprise_id = golden.enterprise_id
left join {{ ref('ref_divisions') }} as divisions on golden.division_code = divisions.code12
left join conflicts on roles.enterprise_id = conflicts.enterprise_id
