-- Name → enterprise: every matching name key (int_enterprise_mentions_unioned)
-- that belongs to exactly one enterprise with a valid credit code. Resolves
-- records whose own code is invalid (a hazard row whose code Excel mangled)
-- to the enterprise they name; an ambiguous name resolves nothing.
with

named as (
    select name_key, enterprise_id
    from {{ ref('int_enterprise_mentions_unioned') }}
    where is_code_valid and name_key is not null
    group by name_key, enterprise_id
)

select
    name_key,
    min(enterprise_id) as enterprise_id
from named
group by name_key
having count(*) = 1
