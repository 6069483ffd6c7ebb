-- 地质灾害隐患点 geological-hazard sites (WFS layer dz:hazard_points): the
-- latest snapshot (each pull is stored whole). The monitoring person is a
-- keyed pseudonym and masked form only (pii).
with

source as (
    select * from {{ source('natural_resources', 'hazard_points') }}
),

renamed as (
    select
        yhdbh as hazard_point_id,
        mc as hazard_point_name,
        lx as geohazard_type,
        gm as volume_m3,
        gmdj as size_grade,
        xqdj as danger_grade,
        cast(wxrs as integer) as threatened_people,
        cast(wxhs as integer) as threatened_households,
        wxcc as threatened_property_wan_cny,
        xzqh as division_code,
        cun as village_name,
        fzcs as prevention_measure,
        jczrr_pseudonym as monitor_pseudonym,
        jczrr_masked as monitor_masked,
        zt as registry_status,
        zt = '在册' as is_registered,
        gxsj as last_checked_date,
        feature_id,
        lon,
        lat,
        _batch_id as batch_id,
        _extracted_at as extracted_at
    from source
    where
        {{ in_latest_batch('source') }}
        and yhdbh is not null
)

select * from renamed
