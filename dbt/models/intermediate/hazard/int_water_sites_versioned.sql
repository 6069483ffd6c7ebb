-- Reservoirs and river sections with their thresholds (snap_water_sites) in
-- the dim_hazard_site shape. FRGRD is the reporting grade 报汛等级 (1 中央,
-- 2 省级重点, 3 省级一般, 4 其他报汛站), not a risk: it is kept in attributes
-- (reporting_grade, reporting_grade_name). The risk is the site's flood
-- state at its newest reading (int_water_sites_assessed): 超保证 4,
-- 超警戒 / 超汛限 3, 正常 / 非汛期 1, no reading NULL. It is a state of now,
-- so only the current version carries it; past versions have none.
-- Snapshot times are UTC.
with

versions as (
    select * from {{ ref('snap_water_sites') }}
),

states as (
    select * from {{ ref('int_water_sites_assessed') }}
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
    states.flood_state_name as risk_level,
    states.risk_rank,
    versions.division_code,
    versions.lon,
    versions.lat,
    jsonb_strip_nulls(jsonb_build_object(
        'warning_stage_m', versions.warning_stage_m, 'guaranteed_stage_m', versions.guaranteed_stage_m,
        'warning_discharge_m3s', versions.warning_discharge_m3s,
        'guaranteed_discharge_m3s', versions.guaranteed_discharge_m3s,
        'min_flood_limit_level_m', versions.min_flood_limit_level_m, 'flood_limits', versions.flood_limits,
        'reporting_grade', versions.report_grade_code, 'reporting_grade_name', report_grades.name,
        'flood_state', states.flood_state, 'observed_level_m', states.observed_level_m,
        'observed_at', states.observed_at,
        'current_flood_limit_level_m', states.current_flood_limit_level_m
    )) as attributes,
    versions.dbt_valid_from at time zone 'UTC' as valid_from,
    versions.dbt_valid_to at time zone 'UTC' as valid_to
from versions
left join states on versions.water_site_id = states.water_site_id and versions.dbt_valid_to is null
left join report_grades on versions.report_grade_code = report_grades.code
