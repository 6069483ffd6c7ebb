-- SL 323 ST_RIVER_R river stage, one row per (station, TM): the latest
-- extraction wins (rows are corrected in place at the bureau). FLWCHRCD blank
-- means "normal" and becomes NULL.
with

source as (
    select * from {{ source('water', 'river') }}
    where nullif(trim(stcd), '') is not null and tm is not null
),

versions as (
    select
        *,
        min(_extracted_at) over (partition by trim(stcd), tm) as first_extracted_at,
        max(_extracted_at) over (partition by trim(stcd), tm) as last_extracted_at
    from source
),

latest as (
    select distinct on (trim(stcd), tm) *
    from versions
    order by trim(stcd), tm, _extracted_at desc, _batch_id desc
),

renamed as (
    select
        trim(stcd) || '@' || to_char(tm at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as river_reading_id,
        trim(stcd) as station_id,
        tm as observed_at,
        z as stage_m,
        q as discharge_m3s,
        xsa as cross_section_area_m2,
        xsavv as mean_velocity_ms,
        xsmxv as max_velocity_ms,
        nullif(trim(flwchrcd), '') as flow_character_code,
        nullif(trim(wptn), '') as tendency_code,
        nullif(trim(msqmt), '') as discharge_method_code,
        nullif(trim(msamt), '') as area_method_code,
        nullif(trim(msvmt), '') as velocity_method_code,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        first_extracted_at,
        last_extracted_at
    from latest
)

select * from renamed
