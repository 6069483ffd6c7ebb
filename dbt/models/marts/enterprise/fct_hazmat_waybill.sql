-- 危险货物电子运单 with carrier, consignor, GB 6944 class and both ends'
-- divisions. Flow relative to 海城市 (var enterprise_home_county_code):
-- inbound 流入 (from outside to inside), outbound 流出, within 境内, and
-- through 过境 (both ends outside: the waybill reaches the Haicheng feed
-- because the route crosses the city).
-- Incremental (var incremental_lookback_hours): see the model's YAML.
{%- set home = var('enterprise_home_county_code') %}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='waybill_id',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where waybill_id not in
            (select waybill_id from {{ ref('stg_transport__hazmat_waybills') }}){% endif %}",
    )
}}

with

enterprises as (
    select * from {{ ref('dim_enterprise') }}
),

{% if is_incremental() -%}
-- Waybills built before whose carrier or consignor columns no longer match dim_enterprise.
enterprise_changed as (
    select built.waybill_id
    from {{ this }} as built
    left join enterprises as carrier
        on {{ enterprise_normalize_credit_code('built.carrier_credit_code') }} = carrier.enterprise_id
    left join enterprises as consignor
        on {{ enterprise_normalize_credit_code('built.consignor_credit_code') }} = consignor.enterprise_id
    where
        (
            built.carrier_enterprise_id, built.carrier_name, built.is_carrier_licensed_in_haicheng,
            built.carrier_licence_valid_to_date, built.is_class_in_carrier_scope,
            built.consignor_enterprise_id, built.consignor_name
        ) is distinct from (
            carrier.enterprise_id, carrier.enterprise_name, coalesce(carrier.is_licensed_carrier, false),
            carrier.carrier_licence_valid_to_date,
            case
                when carrier.is_licensed_carrier
                    then built.hazard_class_code = any(string_to_array(carrier.carrier_scope, ','))
            end,
            consignor.enterprise_id, consignor.enterprise_name
        )
),

{% endif -%}
waybills as (
    select
        *,
        {{ enterprise_normalize_credit_code('carrier_credit_code') }} as carrier_code,
        {{ enterprise_normalize_credit_code('consignor_credit_code') }} as consignor_code,
        coalesce(origin_division_code like '{{ home }}%', false) as is_origin_in_haicheng,
        coalesce(destination_division_code like '{{ home }}%', false) as is_destination_in_haicheng
    from {{ ref('stg_transport__hazmat_waybills') }}
    {% if is_incremental() -%}
    where
        {{ touched_since_watermark(
            ['waybill_id'], ref('stg_transport__hazmat_waybills'),
            'last_extracted_at', 'source_extracted_at', var('incremental_lookback_hours')
        ) }}
        or waybill_id in (select enterprise_changed.waybill_id from enterprise_changed)
    {%- endif %}
),

flows as (
    select
        *,
        case
            when is_origin_in_haicheng and is_destination_in_haicheng then 'within'
            when is_destination_in_haicheng then 'inbound'
            when is_origin_in_haicheng then 'outbound'
            else 'through'
        end as flow_direction
    from waybills
)

select
    w.waybill_id,
    carrier.enterprise_id as carrier_enterprise_id,
    w.carrier_credit_code,
    carrier.enterprise_name as carrier_name,
    coalesce(carrier.is_licensed_carrier, false) as is_carrier_licensed_in_haicheng,
    carrier.carrier_licence_valid_to_date,
    case
        when carrier.is_licensed_carrier
            then carrier.carrier_licence_valid_to_date >= {{ local_date('w.departed_at') }}
    end as is_carrier_licence_valid_at_departure,
    case
        when carrier.is_licensed_carrier
            then w.hazard_class = any(string_to_array(carrier.carrier_scope, ','))
    end as is_class_in_carrier_scope,
    consignor.enterprise_id as consignor_enterprise_id,
    w.consignor_credit_code,
    consignor.enterprise_name as consignor_name,
    w.plate_no,
    w.goods_name,
    w.un_no,
    w.hazard_class as hazard_class_code,
    classes.class_number as hazard_class_number,
    classes.name_zh as hazard_class_name,
    classes.class_code is not null as is_hazard_class_mapped,
    w.weight_t,
    w.origin_address,
    w.origin_division_code,
    origin.name as origin_division_name,
    w.is_origin_in_haicheng,
    w.destination_address,
    w.destination_division_code,
    destination.name as destination_division_name,
    w.is_destination_in_haicheng,
    w.flow_direction,
    case w.flow_direction when 'within' then '境内' when 'inbound' then '流入' when 'outbound' then '流出' else '过境' end
        as flow_direction_zh,
    w.departed_at,
    w.arrived_at,
    cast(extract(epoch from w.arrived_at - w.departed_at) / 60 as integer) as transit_minutes,
    w.status,
    w.updated_at,
    w.last_extracted_at as source_extracted_at
from flows as w
left join enterprises as carrier on w.carrier_code = carrier.enterprise_id
left join enterprises as consignor on w.consignor_code = consignor.enterprise_id
left join {{ ref('ref_dangerous_goods_classes') }} as classes on w.hazard_class = classes.class_code
left join {{ ref('ref_divisions') }} as origin on w.origin_division_code = origin.code12
left join {{ ref('ref_divisions') }} as destination on w.destination_division_code = destination.code12
