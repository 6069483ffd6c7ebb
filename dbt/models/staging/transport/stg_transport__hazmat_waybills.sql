-- 危险货物电子运单: append-only versions, so the newest version per waybill
-- wins (updated_at, then the later extraction); waybills whose newest
-- version is a tombstone (deleted) are removed.
with

source as (
    select * from {{ source('transport', 'hazmat_waybills') }}
),

latest as (
    {{ latest_live_version_per('source', ['waybill_no'], where='waybill_no is not null') }}
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
        _extracted_at as extracted_at
    from latest
)

select * from renamed
