-- 危险货物道路运输企业 licensed in 海城市: append-only versions, so the
-- newest version per credit code wins (updated_at, then the later
-- extraction); carriers whose newest version is a tombstone are removed.
with

source as (
    select * from {{ source('transport', 'hazmat_carriers') }}
),

latest as (
    {{ latest_live_version_per('source', ['credit_code'], where='credit_code is not null') }}
),

renamed as (
    select
        credit_code,
        nullif(trim(name), '') as carrier_name,
        nullif(trim(licence_no), '') as licence_no,
        licence_valid_to as licence_valid_to_date,
        scope as scope_classes,
        (select string_agg(c, ',' order by c) from jsonb_array_elements_text(latest.scope) as c) as scope,
        cast(vehicle_count as integer) as vehicle_count,
        nullif(trim(address), '') as address,
        division_code,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
)

select * from renamed
