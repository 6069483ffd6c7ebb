-- SL 323 ST_RSVR_R reservoir levels, one row per (station, TM): the latest
-- extraction wins. Storage W is in 10^6 m³; RWCHRCD blank means "normal".
-- Incremental (var incremental_lookback_hours): see the model's YAML.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='reservoir_reading_id',
        indexes=[
            {'columns': ['reservoir_reading_id'], 'unique': true},
            {'columns': ['last_extracted_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('water', 'reservoir') }}
    {% if is_incremental() -%}
    where {{ touched_row_keys(
        source('water', 'reservoir'), 'last_extracted_at', var('incremental_lookback_hours')
    ) }}
    {%- endif %}
),

latest as (
    {{ sl323_latest_readings('source') }}
),

renamed as (
    select
        reading_id as reservoir_reading_id,
        station_id,
        tm as observed_at,
        rz as level_m,
        inq as inflow_m3s,
        w as storage_mcm,
        blrz as downstream_level_m,
        otq as outflow_m3s,
        nullif(trim(rwchrcd), '') as character_code,
        nullif(trim(rwptn), '') as tendency_code,
        inqdr as inflow_period_hours,
        nullif(trim(msqmt), '') as discharge_method_code,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        first_extracted_at,
        last_extracted_at
    from latest
)

select * from renamed
