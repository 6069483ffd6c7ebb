-- 交通事故 road accidents (JTSG files). A re-sent file replaces its day in
-- raw; an accident listed twice keeps its latest extraction. The plate of a
-- vehicle without dangerous goods is personal data: pseudonym and masked
-- form only (pii); hazmat_plate is kept in clear for tracing by design.
with

source as (
    select * from {{ source('police', 'accidents') }}
    where accident_id is not null
),

latest as (
    {{ latest_row_per('source', ['accident_id']) }}
),

renamed as (
    select
        accident_id,
        occurred_at,
        location,
        division_code,
        lon,
        lat,
        coord_status,
        nullif(trim(road_code), '') as road_code,
        accident_type,
        cast(deaths as integer) as death_count,
        cast(injuries as integer) as injury_count,
        coalesce(hazmat, false) as is_hazmat,
        hazmat_plate,
        plate_pseudonym,
        plate_masked,
        weather,
        road_surface,
        report_date,
        source_file,
        cast(source_row as integer) as source_row,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
)

select * from renamed
