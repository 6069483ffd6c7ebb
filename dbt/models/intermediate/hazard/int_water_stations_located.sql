-- Water stations placed in a town. SL 323 carries only the county code
-- (ADDVCD 210381), so the town is the ref_divisions town whose name appears
-- in the station's location text STLC (辽宁省海城市海州街道…), the longest
-- name winning; a station whose STLC names no town is placed at the county
-- (ADDVCD padded to 12 digits) with is_town_matched false.
with

stations as (
    select * from {{ ref('stg_water__stations') }}
),

divisions as (
    select * from {{ ref('ref_divisions') }}
),

town_matches as (
    select distinct on (stations.station_id)
        stations.station_id,
        divisions.code12 as division_code
    from stations
    inner join divisions
        on divisions.level = 'town' and strpos(stations.location_text, divisions.name) > 0
    order by stations.station_id, length(divisions.name) desc, divisions.code12
),

located as (
    select
        stations.*,
        coalesce(town_matches.division_code, rpad(coalesce(stations.county_code, '210381'), 12, '0'))
            as division_code,
        town_matches.division_code is not null as is_town_matched
    from stations
    left join town_matches on stations.station_id = town_matches.station_id
)

select
    located.*,
    divisions.name as division_name
from located
left join divisions on located.division_code = divisions.code12
