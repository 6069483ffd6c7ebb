-- SL 323-2011 ST_RSVRFSR_B 库（湖）站汛限水位表: the latest snapshot (the
-- rows valid now, MODITIME versions), one row per (station, season begin).
-- BGMD/EDMD are MMDD, inclusive; a period may wrap past New Year (begin >
-- end), which consumers must honour. FSTP is the season type: 1 主汛期,
-- 2 后汛期, 3 过渡期 are flood seasons and their FSLTDZ is the flood-limit
-- level; 4 其他时期 is outside the flood season and its FSLTDZ (the normal
-- pool or other operating level) is kept as season_level_m only, never as
-- a flood limit.
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
        coalesce(trim(fstp) in ('1', '2', '3'), false) as is_flood_season,
        fsltdz as season_level_m,
        case when trim(fstp) in ('1', '2', '3') then fsltdz end as flood_limit_level_m,
        case when trim(fstp) in ('1', '2', '3') then fsltdw end as flood_limit_storage_mcm,
        nullif(trim(fstp), '') as season_type_code,
        moditime as modified_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
    where nullif(trim(bgmd), '') is not null
)

select * from renamed
