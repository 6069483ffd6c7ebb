-- Codes of the hazard domain that do not resolve to their reference table,
-- counted per source, dataset, code column and value (never dropped
-- silently: the mart rows keep NULL or a fallback, this model says how many).
-- One row per unmapped value; no row means every value resolved.
{#- Codes that must be in a reference table (NULL counts as unmapped). -#}
{%- set reference_checks = [
    ('transport', 'bridges', 'tech_grade', 'stg_transport__bridges', 'tech_grade', 'ref_bridge_tech_grades', 'tech_grade'),
    ('natural_resources', 'hazard_points', 'geohazard_type',
        'stg_natural_resources__hazard_points', 'geohazard_type', 'ref_geohazard_types', 'geohazard_type'),
    ('natural_resources', 'hazard_points', 'danger_grade',
        'stg_natural_resources__hazard_points', 'danger_grade', 'ref_geohazard_danger_grades', 'danger_grade'),
    ('weather', 'warnings', 'event_type_code', 'stg_weather__warnings', 'event_type_code', 'ref_event_categories', 'code'),
] %}
{#- SL 323 codes that must be in their code list of ref_sl323_codes (NULL is missing, not counted). -#}
{%- set sl323_checks = [
    ('stations', 'sttp', 'stg_water__stations', 'station_type_code', 'STTP'),
    ('rainfall', 'wth', 'stg_water__rain_readings', 'weather_code', 'WTH'),
    ('river', 'wptn', 'stg_water__river_readings', 'tendency_code', 'WPTN'),
    ('river', 'flwchrcd', 'stg_water__river_readings', 'flow_character_code', 'FLWCHRCD'),
    ('reservoir', 'rwptn', 'stg_water__reservoir_readings', 'tendency_code', 'WPTN'),
    ('reservoir', 'rwchrcd', 'stg_water__reservoir_readings', 'character_code', 'FLWCHRCD'),
] %}

with

sl323 as (select * from {{ ref('ref_sl323_codes') }}),

unmapped as (
    select
        'police' as source, 'alarms' as source_dataset, 'alarm_category_code' as code_column,
        alarm_category_code as code_value
    from {{ ref('int_alarms_classified') }}
    where mapping_level is null
    union all
    select 'police', 'alarm_daily_counts', 'alarm_category_code', counts.alarm_category_code
    from {{ ref('stg_police__alarm_daily_counts') }} as counts
    where
        not exists (
            select 1 from {{ ref('ref_police_alarm_categories') }} as c
            where c.alarm_category_code in (counts.alarm_category_code, left(counts.alarm_category_code, 2))
        )
    union all
    select 'transport', 'road_events', 'road_event_type', road_event_type
    from {{ ref('int_road_events_classified') }}
    where not is_type_mapped
    union all
    {% for source, dataset, code_column, model, column, code_table, code_table_column in reference_checks -%}
    select '{{ source }}', '{{ dataset }}', '{{ code_column }}', cast({{ column }} as text)
    from {{ ref(model) }}
    where
        {{ column }} is null
        or {{ column }} not in (select codes.{{ code_table_column }} from {{ ref(code_table) }} as codes)
    union all
    {% endfor -%}
    select 'weather', 'warnings', 'event_type_code+severity_colour', event_type_code || '-' || severity_colour
    from {{ ref('int_warnings_lifecycled') }}
    where signal_colour_id is null
    union all
    select 'weather', 'warnings', 'references', named.identifier
    from {{ ref('stg_weather__warnings') }} as warnings
    cross join lateral unnest(warnings.referenced_identifiers) as named (identifier)
    where named.identifier not in (select known.identifier from {{ ref('stg_weather__warnings') }} as known)
    union all
    select 'water', 'stations', 'stlc (division)', station_id
    from {{ ref('int_water_stations_located') }}
    where not is_town_matched
    union all
    {% for dataset, code_column, model, column, code_list in sl323_checks -%}
    select 'water', '{{ dataset }}', '{{ code_column }}', {{ column }}
    from {{ ref(model) }}
    where
        {{ column }} not in (
            select sl323.code from sl323
            where sl323.code_list = '{{ code_list }}'
        )
    union all
    {% endfor -%}
    -- Readings of stations missing from the station master are placed at the county.
    select 'water', dataset, 'stcd (station master)', station_id
    from (
        select 'rainfall' as dataset, station_id from {{ ref('int_rain_hours_totalled') }}
        union all
        select 'river', station_id from {{ ref('stg_water__river_readings') }}
        union all
        select 'reservoir', station_id from {{ ref('stg_water__reservoir_readings') }}
    ) as readings
    where station_id not in (select master.station_id from {{ ref('stg_water__stations') }} as master)
)

select
    concat_ws(':', source, source_dataset, code_column, coalesce(code_value, '(null)')) as unmapped_code_id,
    source,
    source_dataset,
    code_column,
    code_value,
    cast(count(*) as integer) as row_count
from unmapped
group by source, source_dataset, code_column, code_value
