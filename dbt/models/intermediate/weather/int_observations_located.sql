-- Observations placed in their station's division (inner join: observations
-- of unknown stations are counted by a staging test, not placed). Values of
-- rows flagged qc = 2 ('wrong') are nulled here, so no extreme, average or
-- threshold breach downstream is ever computed from a value the bureau
-- itself marked wrong; the observation still counts in obs_count.
with

observations as (
    select * from {{ ref('stg_weather__observations') }}
),

stations as (
    select * from {{ ref('stg_weather__stations') }}
),

divisions as (
    select * from {{ ref('ref_divisions') }}
),

located as (
    select
        observations.observation_id,
        observations.station_id,
        observations.observed_at,
        date_trunc('hour', observations.observed_at, {{ local_time_zone() }}) as obs_hour,
        stations.division_code,
        divisions.name as division_name,
        stations.lon,
        stations.lat,
        observations.qc,
        coalesce(observations.qc = 2, false) as is_qc_wrong,
        -- (parenthesised: sqlfluff's postgres grammar cannot parse a bare `when … is distinct from`)
        case when (observations.qc is distinct from 2) then observations.temp_c end as temp_c,
        case when (observations.qc is distinct from 2) then observations.precip_1h_mm end as precip_1h_mm,
        case when (observations.qc is distinct from 2) then observations.wind_gust_ms end as wind_gust_ms,
        case when (observations.qc is distinct from 2) then observations.visibility_m end as visibility_m,
        observations.updated_at,
        observations.last_extracted_at
    from observations
    inner join stations on observations.station_id = stations.station_id
    left join divisions on stations.division_code = divisions.code12
)

select * from located
