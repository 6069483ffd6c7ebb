-- Shelters with their GB 21734 class (ref_shelter_classes, by the
-- NFKC-normalised class) and division resolved against ref_divisions; an
-- unmapped class or division stays NULL and is counted in
-- int_resource__unmapped_codes.
with

shelters as (
    select * from {{ ref('stg_natural_resources__shelters') }}
),

classes as (
    select * from {{ ref('ref_shelter_classes') }}
),

divisions as (
    select * from {{ ref('ref_divisions') }}
),

classified as (
    select
        shelters.shelter_id,
        shelters.shelter_name,
        shelters.shelter_class as shelter_class_raw,
        classes.shelter_class_code,
        classes.shelter_class_name,
        shelters.effective_area_m2,
        shelters.capacity_people,
        shelters.division_code as division_code_raw,
        divisions.code12 as division_code,
        divisions.name as division_name,
        shelters.address,
        shelters.lon,
        shelters.lat,
        shelters.extracted_at
    from shelters
    left join classes on shelters.shelter_class_key = classes.shelter_class_code
    left join divisions on shelters.division_code = divisions.code12
)

select * from classified
