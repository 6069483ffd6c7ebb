-- One row per station ever listed, with its attributes from the newest
-- snapshot that lists it. The loader stores every stations batch whole, so
-- the latest batch is the current list; a station missing from it is
-- withdrawn (is_in_latest_snapshot false) but still places its past
-- observations, so withdrawing a station never erases history downstream.
with

source as (
    select * from {{ source('weather', 'stations') }}
),

latest_batch as (
    select _batch_id from source order by _extracted_at desc, _batch_id desc limit 1
),

latest_versions as (
    select distinct on (station_id) *
    from source
    where station_id is not null
    order by station_id, _extracted_at desc, _batch_id desc
),

renamed as (
    select
        station_id,
        name as station_name,
        lon,
        lat,
        altitude_m,
        division_code,
        kind as station_kind,
        active as is_active,
        _batch_id in (select _batch_id from latest_batch) as is_in_latest_snapshot,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_versions
)

select * from renamed
