-- Geological-hazard sites (registered 在册 versions of snap_hazard_points) in
-- the dim_hazard_site shape. risk_level is the recorded 险情等级 when it is
-- one of ref_geohazard_danger_grades, else the grade its people threatened
-- or property threatened reach (the plan's thresholds: ≥ 1000 people or
-- ≥ 1亿元 特大型 …); attributes keep both. Snapshot times are UTC.
with

versions as (
    select * from {{ ref('snap_hazard_points') }}
    where registry_status = '在册'
),

grades as (
    select * from {{ ref('ref_geohazard_danger_grades') }}
),

computed as (
    select distinct on (versions.dbt_scd_id)
        versions.dbt_scd_id,
        grades.danger_grade as computed_grade
    from versions
    inner join grades
        on
            versions.threatened_people >= grades.min_people
            or versions.threatened_property_wan_cny >= grades.min_property_wan_cny
    order by versions.dbt_scd_id, grades.risk_rank desc
)

select
    'geohazard_point:' || versions.hazard_point_id as site_id,
    'geohazard_point' as site_type,
    'natural_resources' as source,
    versions.hazard_point_id as source_record_id,
    versions.hazard_point_name as name,
    coalesce(recorded.danger_grade, computed.computed_grade) as risk_level,
    coalesce(recorded.risk_rank, computed_grades.risk_rank) as risk_rank,
    versions.division_code,
    versions.lon,
    versions.lat,
    jsonb_build_object(
        'geohazard_type', versions.geohazard_type, 'danger_grade', versions.danger_grade,
        'computed_danger_grade', computed.computed_grade, 'threatened_people', versions.threatened_people,
        'threatened_property_wan_cny', versions.threatened_property_wan_cny,
        'prevention_measure', versions.prevention_measure
    ) as attributes,
    versions.dbt_valid_from at time zone 'UTC' as valid_from,
    versions.dbt_valid_to at time zone 'UTC' as valid_to
from versions
left join grades as recorded on versions.danger_grade = recorded.danger_grade
left join computed on versions.dbt_scd_id = computed.dbt_scd_id
left join grades as computed_grades on computed.computed_grade = computed_grades.danger_grade
