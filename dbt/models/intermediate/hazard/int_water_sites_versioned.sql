-- Reservoirs and river sections with their thresholds (snap_water_sites) in
-- the dim_hazard_site shape. SL 323 grades no risk; risk_level is the
-- station's reporting grade FRGRD (中央/省级重点/省级一般/其他报汛站) as the
-- measure of its flood-control importance, risk_rank 4 (FRGRD 1) … 1 (FRGRD 4).
-- Snapshot times are UTC.
with

versions as (
    select * from {{ ref('snap_water_sites') }}
),

report_grades as (
    select * from {{ ref('ref_sl323_codes') }}
    where code_list = 'FRGRD'
)

select
    versions.site_type || ':' || versions.water_site_id as site_id,
    versions.site_type,
    'water' as source,
    versions.water_site_id as source_record_id,
    concat_ws('', versions.river_name, versions.station_name) as name,
    report_grades.name as risk_level,
    case when versions.report_grade_code ~ '^[1-4]$' then 5 - cast(versions.report_grade_code as integer) end
        as risk_rank,
    versions.division_code,
    versions.lon,
    versions.lat,
    jsonb_strip_nulls(jsonb_build_object(
        'warning_stage_m', versions.warning_stage_m, 'guaranteed_stage_m', versions.guaranteed_stage_m,
        'warning_discharge_m3s', versions.warning_discharge_m3s,
        'guaranteed_discharge_m3s', versions.guaranteed_discharge_m3s,
        'min_flood_limit_level_m', versions.min_flood_limit_level_m, 'flood_limits', versions.flood_limits
    )) as attributes,
    versions.dbt_valid_from at time zone 'UTC' as valid_from,
    versions.dbt_valid_to at time zone 'UTC' as valid_to
from versions
left join report_grades on versions.report_grade_code = report_grades.code
