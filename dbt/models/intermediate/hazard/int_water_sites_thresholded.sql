-- Water hazard sites: river sections (ZZ/ZQ stations with flood-control
-- thresholds in ST_RVFCCH_B) and reservoirs (RR stations with periods in
-- ST_RSVRFSR_B), in use, with their thresholds: WRZ/GRZ (and discharges)
-- for rivers; for reservoirs every period's FSLTDZ as JSON (with FSTP and
-- whether it is a flood season) plus the lowest flood limit, taken from the
-- flood-season periods (FSTP 1–3) only: an FSTP 4 level is no flood limit.
-- Snapshotted by snap_water_sites for dim_hazard_site history.
with

stations as (
    select * from {{ ref('int_water_stations_located') }}
    where is_in_use and station_type_code in ('ZZ', 'ZQ', 'RR')
),

river_thresholds as (
    select * from {{ ref('stg_water__river_thresholds') }}
),

flood_limits as (
    select
        station_id,
        min(flood_limit_level_m) filter (where is_flood_season) as min_flood_limit_level_m,
        jsonb_agg(
            jsonb_build_object(
                'bgmd', season_begin_mmdd, 'edmd', season_end_mmdd, 'fsltdz', season_level_m,
                'fstp', season_type_code, 'is_flood_season', is_flood_season
            ) order by season_begin_mmdd
        ) as flood_limits
    from {{ ref('stg_water__reservoir_flood_limits') }}
    group by station_id
)

select
    stations.station_id as water_site_id,
    case when stations.station_type_code = 'RR' then 'reservoir' else 'river_section' end as site_type,
    stations.station_name,
    stations.river_name,
    stations.station_type_code,
    stations.report_grade_code,
    stations.division_code,
    stations.lon,
    stations.lat,
    river_thresholds.warning_stage_m,
    river_thresholds.guaranteed_stage_m,
    river_thresholds.warning_discharge_m3s,
    river_thresholds.guaranteed_discharge_m3s,
    flood_limits.min_flood_limit_level_m,
    flood_limits.flood_limits
from stations
left join river_thresholds
    on stations.station_id = river_thresholds.station_id and stations.station_type_code <> 'RR'
left join flood_limits
    on stations.station_id = flood_limits.station_id and stations.station_type_code = 'RR'
where river_thresholds.station_id is not null or flood_limits.station_id is not null
