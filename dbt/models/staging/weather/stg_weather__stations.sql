-- One row per station of the latest snapshot: the loader stores every
-- stations batch whole, so the newest batch (max _extracted_at) is the truth
-- and a station missing from it has been withdrawn.
with

source as (
    select * from {{ source('weather', 'stations') }}
),

latest_snapshot as (
    select distinct on (station_id) *
    from source
    where
        station_id is not null
        and _batch_id = (select _batch_id from source order by _extracted_at desc, _batch_id desc limit 1)
    order by station_id
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
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_snapshot
)

select * from renamed
