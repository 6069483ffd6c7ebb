-- One row per station: its newest version. Each batch is a full snapshot, but
-- the loader skips rows whose content is already in raw, so an unchanged
-- station is only in the batch that first carried it.
with

source as (
    select * from {{ source('weather', 'stations') }}
),

latest as (
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
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
)

select * from renamed
