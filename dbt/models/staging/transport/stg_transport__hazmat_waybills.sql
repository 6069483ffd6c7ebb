-- 危险货物电子运单: append-only versions, so the newest version per waybill
-- wins (updated_at, then the later extraction); waybills whose newest
-- version is a tombstone (deleted) are removed.
-- Incremental (var incremental_lookback_hours): see the model's YAML.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='waybill_id',
        indexes=[{'columns': ['waybill_id'], 'unique': true}],
        pre_hook="{{ delete_touched(['waybill_id'], source('transport', 'hazmat_waybills'), '_extracted_at',
            'last_extracted_at', var('incremental_lookback_hours'), ['waybill_no']) }}",
    )
}}

with

source as (
    select * from {{ source('transport', 'hazmat_waybills') }}
    where waybill_no is not null
    {% if is_incremental() -%}
    and {{ touched_since_watermark(
        ['waybill_no'], source('transport', 'hazmat_waybills'),
        '_extracted_at', 'last_extracted_at', var('incremental_lookback_hours')
    ) }}
    {%- endif %}
),

versions as (
    select
        *,
        max(_extracted_at) over (partition by waybill_no) as last_extracted_at
    from source
),

latest as (
    {{ latest_live_version_per('versions', ['waybill_no']) }}
),

renamed as (
    select
        waybill_no as waybill_id,
        nullif(trim(carrier_credit_code), '') as carrier_credit_code,
        nullif(trim(consignor_credit_code), '') as consignor_credit_code,
        plate_no,
        nullif(trim(goods_name), '') as goods_name,
        un_no,
        nullif(trim(hazard_class), '') as hazard_class,
        weight_t,
        origin_address,
        origin_division_code,
        destination_address,
        destination_division_code,
        depart_time as departed_at,
        arrive_time as arrived_at,
        status,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        last_extracted_at
    from latest
)

select * from renamed
