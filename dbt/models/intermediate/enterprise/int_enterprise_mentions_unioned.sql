-- Every mention of an enterprise in every source, one row per source record
-- (waybills twice: as carrier and as consignor), with its credit code
-- normalised and validated (GB 32100) and its name cleaned for matching.
-- source_priority orders the sources for survivorship (1 wins).
with

mentions as (
    select
        'bureau_chemicals' as source, 1 as source_priority, credit_code as source_key,
        credit_code as credit_code_raw, enterprise_name as name_raw, division_code, address, uploaded_at as seen_at
    from {{ ref('stg_bureau__chemical_enterprises') }}
    union all
    select
        'police_key_units', 2, licence_id,
        credit_code, unit_name, division_code, address, cast(report_date as timestamptz)
    from {{ ref('stg_police__key_units') }}
    union all
    select
        'transport_carriers', 3, credit_code,
        credit_code, carrier_name, division_code, address, updated_at
    from {{ ref('stg_transport__hazmat_carriers') }}
    union all
    select
        'natural_resources_mining', 4, mining_right_id,
        credit_code, holder_name, division_code, null, extracted_at
    from {{ ref('stg_natural_resources__mining_rights') }}
    union all
    select
        'bureau_safety_hazards', 5, hazard_id,
        credit_code, enterprise_name, null, null, uploaded_at
    from {{ ref('stg_bureau__safety_hazards') }}
    union all
    select
        'transport_waybill_carriers', 6, waybill_id,
        carrier_credit_code, null, null, null, updated_at
    from {{ ref('stg_transport__hazmat_waybills') }}
    union all
    -- A waybill without a consignor names no enterprise: not a mention.
    select
        'transport_waybill_consignors', 7, waybill_id,
        consignor_credit_code, null, null, null, updated_at
    from {{ ref('stg_transport__hazmat_waybills') }}
    where consignor_credit_code is not null
),

normalised as (
    select
        *,
        {{ enterprise_normalize_credit_code('credit_code_raw') }} as credit_code,
        {{ enterprise_clean_name('name_raw') }} as enterprise_name,
        {{ enterprise_name_key('name_raw') }} as name_key
    from mentions
),

validated as (
    select
        source || ':' || source_key as mention_id,
        source,
        source_priority,
        source_key,
        credit_code_raw,
        credit_code,
        {{ enterprise_credit_code_invalid_reason('credit_code') }} as invalid_reason,
        enterprise_name,
        name_key,
        division_code,
        address,
        seen_at
    from normalised
)

select
    *,
    invalid_reason is null as is_code_valid,
    case when invalid_reason is null then credit_code end as enterprise_id
from validated
