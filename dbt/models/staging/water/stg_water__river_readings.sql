-- SL 323 ST_RIVER_R river stage, one row per (station, TM): the latest
-- extraction wins (rows are corrected in place at the bureau). FLWCHRCD blank
-- means "normal" and becomes NULL.
-- Incremental (var incremental_lookback_hours): see the model's YAML.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='river_reading_id',
        indexes=[
            {'columns': ['river_reading_id'], 'unique': true},
            {'columns': ['last_extracted_at']},
        ],
    )
}}

with

source as (
    select * from {{ source('water', 'river') }}
    {% if is_incremental() -%}
    where {{ touched_row_keys(
        source('water', 'river'), 'last_extracted_at', var('incremental_lookback_hours')
    ) }}
    {%- endif %}
),

latest as (
    {{ sl323_latest_readings('source') }}
),

renamed as (
    select
        reading_id as river_reading_id,
        station_id,
        tm as observed_at,
        z as stage_m,
        q as discharge_m3s,
        xsa as cross_section_area_m2,
        xsavv as mean_velocity_ms,
        xsmxv as max_velocity_ms,
        nullif(trim(flwchrcd), '') as flow_character_code,
        nullif(trim(wptn), '') as tendency_code,
        nullif(trim(msqmt), '') as discharge_method_code,
        nullif(trim(msamt), '') as area_method_code,
        nullif(trim(msvmt), '') as velocity_method_code,
        _batch_id as batch_id,
        _extracted_at as extracted_at,
        first_extracted_at,
        last_extracted_at
    from latest
)

select * from renamed
