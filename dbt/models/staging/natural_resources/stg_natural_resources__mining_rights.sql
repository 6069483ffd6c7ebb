-- 采矿权 (WFS layer kc:mining_rights): every pull is a full snapshot, so the
-- current register is the newest batch. One row per licence (xkzh).
with

source as (
    select * from {{ source('natural_resources', 'mining_rights') }}
),

latest_rows as (
    {{ latest_snapshot_row_per('source', 'xkzh') }}
),

renamed as (
    select
        xkzh as mining_right_id,
        nullif(trim(ksmc), '') as mine_name,
        nullif(trim(cqr), '') as holder_name,
        nullif(trim(tyshxydm), '') as credit_code,
        nullif(trim(kz), '') as mineral,
        nullif(trim(kcfs), '') as mining_method,
        yxqq as valid_from_date,
        yxqz as valid_to_date,
        xzqh as division_code,
        nullif(trim(zt), '') as licence_status,
        feature_id,
        lon,
        lat,
        geometry_wkt,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_rows
)

select * from renamed
