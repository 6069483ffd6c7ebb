-- The chain each warning version belongs to: root_identifier is the Alert the
-- chain of Updates (<references>) goes back to; a version whose references
-- lead to no known message is its own root. Recursive, hence apart from
-- int_warnings_lifecycled (dbt unit tests do not support recursive SQL).
with recursive

versions as (
    select identifier, msg_type, referenced_identifiers, issued_at
    from {{ ref('int_warnings_lifecycled') }}
),

chain (identifier, root_identifier, depth) as (
    select identifier, identifier, 0
    from versions
    where msg_type = 'Alert'
    union all
    select versions.identifier, chain.root_identifier, chain.depth + 1
    from versions
    inner join chain on chain.identifier = any(versions.referenced_identifiers)
    where versions.msg_type = 'Update' and chain.depth < 50
),

roots as (
    select distinct on (identifier) identifier, root_identifier, depth
    from chain
    order by identifier, depth, root_identifier
)

select
    versions.identifier,
    coalesce(roots.root_identifier, versions.identifier) as root_identifier,
    coalesce(roots.depth, 0) as chain_depth,
    versions.issued_at = max(versions.issued_at) over (
        partition by coalesce(roots.root_identifier, versions.identifier)
    ) as is_latest_version
from versions
left join roots on versions.identifier = roots.identifier
