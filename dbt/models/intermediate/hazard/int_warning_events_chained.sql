-- One hazard event per warning chain (an Alert and its Updates) that names
-- at least one 海城市 division: issued (occurred and reported) when the
-- Alert was sent (or took effect, if earlier); the status of its latest
-- version (active / cancelled / expired); severity by the highest colour of
-- the chain (Blue minor, Yellow moderate, Orange severe, Red extreme, the
-- CAP 1.2 scale by rank); placed at the single 海城市 division it names, else
-- at the county.
with

versions as (
    select lifecycled.*, roots.root_identifier, roots.is_latest_version
    from {{ ref('int_warnings_lifecycled') }} as lifecycled
    inner join {{ ref('int_warning_roots_resolved') }} as roots on lifecycled.identifier = roots.identifier
),

chains as (
    select
        root_identifier,
        min(least(coalesce(effective_at, issued_at), issued_at)) filter (where identifier = root_identifier)
            as occurred_at,
        min(issued_at) filter (where identifier = root_identifier) as reported_at,
        max(colour_rank) as max_colour_rank,
        max(status) filter (where is_latest_version) as chain_status,
        max(event_type_code) filter (where is_latest_version) as event_type_code,
        max(headline) filter (where is_latest_version) as latest_headline,
        count(distinct identifier) as version_count,
        array_agg(distinct haicheng.code) filter (where haicheng.code is not null) as haicheng_codes
    from versions
    left join lateral unnest(versions.haicheng_division_codes) as haicheng (code) on true
    group by root_identifier
)

select
    'weather-warning-' || root_identifier as event_id,
    'weather' as source,
    'warnings' as source_dataset,
    root_identifier as source_record_id,
    event_type_code as category_code,
    occurred_at,
    reported_at,
    case when cardinality(haicheng_codes) = 1 then haicheng_codes[1] else '210381000000' end as division_code,
    cast(null as double precision) as lon,
    cast(null as double precision) as lat,
    case max_colour_rank when 4 then 'extreme' when 3 then 'severe' when 2 then 'moderate' else 'minor' end as severity,
    chain_status as status,
    concat(
        latest_headline,
        case chain_status when 'cancelled' then '（已解除）' when 'expired' then '（已过期）' end,
        case when version_count > 1 then '（共' || version_count || '次发布）' end
    ) as description,
    true as is_hazard_event
from chains
where cardinality(haicheng_codes) > 0
