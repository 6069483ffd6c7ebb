-- Rolling 1/3/6/12/24-hour precipitation per weather station, graded like the rain
-- gauges (macro rain_windows_classified, ref_rainfall_thresholds). The hour's amount
-- is the station's 1-hour precipitation (precip_1h_mm; the largest if an hour holds
-- more than one observation); an hour without a value (missing, or nulled upstream
-- for qc = 2) makes no total of its own and counts as 0 mm in the windows around it.
-- A table over int_observations_located (itself a table): window frames over
-- station-hours, linear in the hours.
with

hours as (
    select
        station_id,
        obs_hour as rain_hour,
        max(division_code) as division_code,
        max(division_name) as division_name,
        max(lon) as lon,
        max(lat) as lat,
        max(precip_1h_mm) as rainfall_mm,
        min(updated_at) as reported_at,
        max(last_extracted_at) as source_extracted_at
    from {{ ref('int_observations_located') }}
    where precip_1h_mm is not null
    group by station_id, obs_hour
),

{{ rain_windows_classified('hours', carry=['division_code', 'division_name', 'lon', 'lat']) }}

select
    station_id || '@' || {{ local_hour_key('rain_hour') }} as rain_window_id,
    station_id,
    rain_hour,
    division_code,
    division_name,
    lon,
    lat,
    {{ rain_window_columns() }}
from graded
