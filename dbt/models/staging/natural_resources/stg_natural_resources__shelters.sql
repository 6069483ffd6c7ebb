-- 应急避难场所: the latest WFS snapshot (rows of the newest _batch_id by
-- _extracted_at; every pull is a complete snapshot and an unchanged layer is
-- not stored again), one row per shelter number. shelter_class_key is 类别
-- NFKC-normalised without 类 (Ⅰ类 → I, Ⅱ类 → II, Ⅲ类 → III).
with

source as (
    select * from {{ source('natural_resources', 'shelters') }}
),

latest_rows as (
    {{ latest_snapshot_row_per('source', 'bncsbh') }}
),

renamed as (
    select
        bncsbh as shelter_id,
        nullif(trim(mc), '') as shelter_name,
        nullif(trim(lb), '') as shelter_class,
        upper(replace(replace(normalize(lb, nfkc), '类', ''), ' ', '')) as shelter_class_key,
        mj as effective_area_m2,
        rnrs as capacity_people,
        xzqh as division_code,
        nullif(trim(dz), '') as address,
        lon,
        lat,
        feature_id,
        geometry_wkt,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_rows
)

select * from renamed
