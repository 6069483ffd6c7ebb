-- 桥梁 bridges: one row per bridge, the newest updated_at wins (ties: latest
-- extraction); bridges whose latest version is a tombstone are removed.
with

source as (
    select * from {{ source('transport', 'bridges') }}
    where bridge_code is not null
),

latest as (
    {{ latest_live_version_per('source', ['bridge_code']) }}
),

renamed as (
    select
        bridge_code as bridge_id,
        name as bridge_name,
        nullif(trim(road_code), '') as road_code,
        stake,
        length_m,
        cast(spans as integer) as span_count,
        cast(built_year as integer) as built_year,
        cast(tech_grade as integer) as tech_grade,
        last_inspection as last_inspection_date,
        manager as manager_name,
        lon,
        lat,
        division_code,
        updated_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
)

select * from renamed
