-- Bridges of technical grade 4 or 5 (poor, dangerous: ref_bridge_tech_grades
-- is_poor, JTG/T H21) from snap_bridges, in the dim_hazard_site shape: a
-- bridge enters the dimension from the version in which it was graded 4 or 5.
-- Snapshot times are UTC.
with

versions as (
    select * from {{ ref('snap_bridges') }}
),

grades as (
    select * from {{ ref('ref_bridge_tech_grades') }}
)

select
    'bridge:' || versions.bridge_id as site_id,
    'bridge' as site_type,
    'transport' as source,
    versions.bridge_id as source_record_id,
    versions.bridge_name as name,
    grades.grade_name as risk_level,
    grades.risk_rank,
    versions.division_code,
    versions.lon,
    versions.lat,
    jsonb_build_object(
        'tech_grade', versions.tech_grade, 'road_code', versions.road_code, 'stake', versions.stake,
        'built_year', versions.built_year, 'last_inspection_date', versions.last_inspection_date
    ) as attributes,
    versions.dbt_valid_from at time zone 'UTC' as valid_from,
    versions.dbt_valid_to at time zone 'UTC' as valid_to
from versions
inner join grades on versions.tech_grade = grades.tech_grade
where grades.is_poor
