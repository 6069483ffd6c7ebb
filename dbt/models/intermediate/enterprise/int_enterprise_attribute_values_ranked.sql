-- Survivorship: for each enterprise (valid credit code) and attribute, the
-- value each source gives, ranked. Within a source the most frequent value
-- (by matching key) stands for it, ties to the most recently seen; across
-- sources the lower source_priority wins (survivor_rank 1 is the golden
-- value): 1 bureau chemicals register, 2 police key units, 3 transport
-- carriers, 4 mining licences, 5 safety-hazard register. Waybills carry no
-- names or places. is_compared marks the values conflicts are sought among:
-- names always; division codes except the mines' (a mine lies where it is
-- dug, not where its holder is seated); addresses never (free text).
with

mentions as (
    select * from {{ ref('int_enterprise_mentions_unioned') }}
    where is_code_valid and source_priority <= 5
),

attribute_values as (
    select
        enterprise_id, 'enterprise_name' as attribute, source, source_priority,
        enterprise_name as value, name_key as value_key, seen_at, true as is_compared
    from mentions
    where enterprise_name is not null
    union all
    select
        enterprise_id, 'division_code', source, source_priority,
        division_code, division_code, seen_at, source <> 'natural_resources_mining'
    from mentions
    where division_code is not null
    union all
    select
        enterprise_id, 'address', source, source_priority,
        address, regexp_replace(normalize(address, nfkc), '\s+', '', 'g'), seen_at, false
    from mentions
    where address is not null
),

per_value as (
    select
        enterprise_id, attribute, source, source_priority, value_key, is_compared,
        min(value) as value,
        count(*) as mention_count,
        max(seen_at) as last_seen_at
    from attribute_values
    group by enterprise_id, attribute, source, source_priority, value_key, is_compared
),

per_source as (
    select distinct on (enterprise_id, attribute, source) *
    from per_value
    order by enterprise_id, attribute, source, mention_count desc, last_seen_at desc nulls last, value_key
)

select
    enterprise_id,
    attribute,
    source,
    source_priority,
    value,
    value_key,
    cast(mention_count as integer) as mention_count,
    is_compared,
    cast(row_number() over (
        partition by enterprise_id, attribute order by source_priority
    ) as integer) as survivor_rank
from per_source
