-- The lifecycle of each warning version (an Alert or Update with CAP status
-- Actual) as of the build time or var as_of (int_warnings_lifecycled), with
-- the chain it belongs to (int_warning_roots_resolved): a warning issued,
-- updated and cancelled ends with its first version 'updated' (superseded
-- by the update) and its latest version 'cancelled' (superseded by the
-- cancel message); chain_status repeats the latest version's status on
-- every version of the chain.
with

versions as (
    select * from {{ ref('int_warnings_lifecycled') }}
),

roots as (
    select * from {{ ref('int_warning_roots_resolved') }}
),

chains as (
    select roots.root_identifier, max(versions.status) filter (where roots.is_latest_version) as chain_status
    from roots
    inner join versions on roots.identifier = versions.identifier
    group by roots.root_identifier
)

select
    versions.identifier,
    roots.root_identifier,
    versions.msg_type,
    versions.sender_code,
    versions.sender_name,
    versions.event_type_code,
    versions.signal_name,
    versions.severity_colour,
    versions.colour_rank,
    versions.issued_at,
    versions.effective_at,
    versions.expires_at,
    versions.status,
    versions.superseded_by,
    versions.ended_at,
    roots.is_latest_version,
    chains.chain_status,
    versions.division_codes,
    versions.haicheng_division_codes,
    versions.headline,
    versions.area_desc
from versions
inner join roots on versions.identifier = roots.identifier
inner join chains on roots.root_identifier = chains.root_identifier
