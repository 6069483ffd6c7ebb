-- One row per station ever listed, with its attributes from the newest
-- snapshot that lists it. The loader stores every stations batch whole, so
-- the latest batch is the current list; a station missing from it is
-- withdrawn (is_in_latest_snapshot false) but still places its past
-- observations, so withdrawing a station never erases history downstream.
with

source as (
    select * from {{ source('weather', 'stations') }}
),

latest_versions as (
    {{ latest_row_per('source', ['station_id'], where='station_id is not null') }}
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
        {{ in_latest_batch('source') }} as is_in_latest_snapshot,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest_versions
)

select * from renamed
