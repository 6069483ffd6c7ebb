-- SL 323 ST_RSVR_R reservoir levels, one row per (station, TM): the latest
-- extraction wins. Storage W is in 10^6 m³; RWCHRCD blank means "normal".
with

source as (
    select * from {{ source('water', 'reservoir') }}
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
        trim(stcd) || '@' || to_char(tm at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as reservoir_reading_id,
        trim(stcd) as station_id,
        tm as observed_at,
        rz as level_m,
        inq as inflow_m3s,
        w as storage_mcm,
        blrz as downstream_level_m,
        otq as outflow_m3s,
        nullif(trim(rwchrcd), '') as character_code,
        nullif(trim(rwptn), '') as tendency_code,
        inqdr as inflow_period_hours,
        nullif(trim(msqmt), '') as discharge_method_code,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        first_extracted_at,
        last_extracted_at
    from latest
)

select * from renamed
