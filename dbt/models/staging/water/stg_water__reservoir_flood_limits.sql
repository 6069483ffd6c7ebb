-- SL 323 ST_RSVRFSR_B flood-season limits: the latest snapshot, one row per
-- (station, season begin). BGMD/EDMD are MMDD; a season may wrap past New
-- Year (begin > end), which consumers must honour.
with

source as (
    select * from {{ source('water', 'reservoir_flood_limits') }}
),

latest as (
    {{ sl323_latest_snapshot('source') }}
),

renamed as (
    select
        trim(stcd) || ':' || trim(bgmd) as flood_limit_id,
        trim(stcd) as station_id,
        trim(bgmd) as season_begin_mmdd,
        trim(edmd) as season_end_mmdd,
        fsltdz as flood_limit_level_m,
        fsltdw as flood_limit_storage_mcm,
        nullif(trim(fstp), '') as season_type_code,
        moditime as modified_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
    where nullif(trim(bgmd), '') is not null
)

select * from renamed
