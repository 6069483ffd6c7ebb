-- What each enterprise (valid credit code) is, per source: its chemicals
-- register entry, police licences, carrier licence and waybills, mining
-- licences and location. Licences count when valid on the as-of day
-- (macro as_of_date, var enterprise_as_of_date).
with

mentions as (
    select * from {{ ref('int_enterprise_mentions_unioned') }}
    where is_code_valid
),

chemicals as (
    select
        m.enterprise_id, c.enterprise_type, c.major_hazard_level, c.lon, c.lat,
        coalesce(levels.is_major_hazard, false) as has_major_hazard
    from mentions as m
    inner join {{ ref('stg_bureau__chemical_enterprises') }} as c on m.source_key = c.credit_code
    left join {{ ref('ref_major_hazard_levels') }} as levels on c.major_hazard_level = levels.level_code
    where m.source = 'bureau_chemicals'
),

licences as (
    select
        m.enterprise_id,
        string_agg(distinct k.licence_type, ',' order by k.licence_type) as licence_types,
        bool_or(
            t.is_civil_explosives
            and coalesce(k.licence_valid_to_date >= {{ as_of_date('enterprise_as_of_date') }}, true)
        )
            as has_civil_explosives_licence
    from mentions as m
    inner join {{ ref('stg_police__key_units') }} as k on m.source_key = k.licence_id
    left join {{ ref('ref_licence_types') }} as t on k.licence_type = t.licence_type
    where m.source = 'police_key_units'
    group by m.enterprise_id
),

carriers as (
    select m.enterprise_id, c.licence_no, c.licence_valid_to_date, c.scope
    from mentions as m
    inner join {{ ref('stg_transport__hazmat_carriers') }} as c on m.source_key = c.credit_code
    where m.source = 'transport_carriers'
),

waybills as (
    select
        enterprise_id,
        count(*) filter (where source = 'transport_waybill_carriers') as waybill_count_as_carrier,
        count(*) filter (where source = 'transport_waybill_consignors') as waybill_count_as_consignor
    from mentions
    where source in ('transport_waybill_carriers', 'transport_waybill_consignors')
    group by enterprise_id
),

mining as (
    select distinct on (m.enterprise_id)
        m.enterprise_id, r.lon, r.lat,
        count(*) over (partition by m.enterprise_id) as mining_right_count,
        count(*) filter (where r.licence_status = '有效') over (partition by m.enterprise_id) as valid_mining_right_count
    from mentions as m
    inner join {{ ref('stg_natural_resources__mining_rights') }} as r on m.source_key = r.mining_right_id
    where m.source = 'natural_resources_mining'
    order by m.enterprise_id, (r.licence_status = '有效') desc, r.valid_to_date desc nulls last, r.mining_right_id
),

sources as (
    select
        enterprise_id,
        string_agg(distinct source, ',' order by source) as source_systems,
        count(distinct source) as source_count
    from mentions
    group by enterprise_id
)

select
    s.enterprise_id, s.source_systems, cast(s.source_count as integer) as source_count,
    ch.enterprise_id is not null as is_in_chemicals_register, ch.enterprise_type as chemical_enterprise_type,
    ch.major_hazard_level,
    coalesce(ch.enterprise_type in ('生产', '储存') or ch.has_major_hazard, false) as is_hazmat_producer_or_storer,
    l.licence_types, coalesce(l.has_civil_explosives_licence, false) as has_civil_explosives_licence,
    ca.enterprise_id is not null or coalesce(w.waybill_count_as_carrier, 0) > 0 as is_hazmat_carrier,
    ca.enterprise_id is not null as is_licensed_carrier, ca.licence_no as carrier_licence_no,
    ca.licence_valid_to_date as carrier_licence_valid_to_date, ca.scope as carrier_scope,
    cast(coalesce(w.waybill_count_as_carrier, 0) as integer) as waybill_count_as_carrier,
    cast(coalesce(w.waybill_count_as_consignor, 0) as integer) as waybill_count_as_consignor,
    coalesce(mi.valid_mining_right_count, 0) > 0 as is_mining,
    cast(coalesce(mi.mining_right_count, 0) as integer) as mining_right_count,
    cast(coalesce(mi.valid_mining_right_count, 0) as integer) as valid_mining_right_count,
    coalesce(ch.lon, mi.lon) as lon, coalesce(ch.lat, mi.lat) as lat
from sources as s
left join chemicals as ch on s.enterprise_id = ch.enterprise_id
left join licences as l on s.enterprise_id = l.enterprise_id
left join carriers as ca on s.enterprise_id = ca.enterprise_id
left join waybills as w on s.enterprise_id = w.enterprise_id
left join mining as mi on s.enterprise_id = mi.enterprise_id
