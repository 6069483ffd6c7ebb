-- SL 323 ST_STBPRP_B station master: the latest snapshot (the loader stores
-- every pull whole; the newest batch by _extracted_at is the current list).
-- Codes are trimmed: CHAR columns come back padded on some DBMS.
with

source as (
    select * from {{ source('water', 'stations') }}
),

latest as (
    {{ sl323_latest_snapshot('source') }}
),

renamed as (
    select
        trim(stcd) as station_id,
        trim(stnm) as station_name,
        nullif(trim(rvnm), '') as river_name,
        nullif(trim(hnnm), '') as river_system_name,
        nullif(trim(bsnm), '') as basin_name,
        lgtd as lon,
        lttd as lat,
        nullif(trim(stlc), '') as location_text,
        nullif(trim(addvcd), '') as county_code,
        nullif(trim(sttp), '') as station_type_code,
        nullif(trim(frgrd), '') as report_grade_code,
        trim(usfl) = '1' as is_in_use,
        nullif(trim(comments), '') as comments,
        moditime as modified_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
)

select * from renamed
