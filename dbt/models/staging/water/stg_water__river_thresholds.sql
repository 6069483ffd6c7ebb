-- SL 323 ST_RVFCCH_B river flood-control thresholds: the latest snapshot.
with

source as (
    select * from {{ source('water', 'river_thresholds') }}
),

latest as (
    {{ sl323_latest_snapshot('source') }}
),

renamed as (
    select
        trim(stcd) as station_id,
        wrz as warning_stage_m,
        wrq as warning_discharge_m3s,
        grz as guaranteed_stage_m,
        grq as guaranteed_discharge_m3s,
        ldkel as left_bank_crest_m,
        rdkel as right_bank_crest_m,
        moditime as modified_at,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from latest
)

select * from renamed
