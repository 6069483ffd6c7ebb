-- Places that carry risk, with history: one row per site version, from the
-- check-strategy snapshots of the sources' staging (geological-hazard
-- sites, bridges of grade 4–5, reservoirs and river sections with their
-- thresholds, major-hazard enterprises). valid_to is NULL for the current
-- version; each site type's risk scale is documented in its intermediate
-- model and normalised in risk_rank (1 low … 4 high).
{%- set site_models = [
    'int_geohazard_sites_versioned',
    'int_bridge_sites_versioned',
    'int_water_sites_versioned',
    'int_enterprise_sites_versioned',
] %}

with

sites as (
    {% for model in site_models -%}
    select
        site_id, site_type, source, source_record_id, name, risk_level, risk_rank, division_code, lon, lat,
        attributes, valid_from, valid_to
    from {{ ref(model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select
    site_id || '@' || {{ utc_timestamp_text('valid_from', microseconds=true) }} as site_version_id,
    site_id,
    site_type,
    source,
    source_record_id,
    name,
    risk_level,
    cast(risk_rank as integer) as risk_rank,
    division_code,
    lon,
    lat,
    attributes,
    valid_from,
    valid_to,
    valid_to is null as is_current
from sites
