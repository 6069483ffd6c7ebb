-- Where sources disagree about an enterprise: for each compared attribute
-- (enterprise_name by its matching key, division_code), every source whose
-- representative value differs from the reference value, i.e. the value of
-- the highest-priority source that gives one (the golden value). source_a is
-- that reference source, source_b the disagreeing one.
with

values_ranked as (
    select * from {{ ref('int_enterprise_attribute_values_ranked') }}
    where is_compared
),

reference as (
    select distinct on (enterprise_id, attribute) *
    from values_ranked
    order by enterprise_id, attribute, survivor_rank
),

pairs as (
    select
        a.enterprise_id,
        a.attribute,
        a.source as source_a,
        a.value as value_a,
        b.source as source_b,
        b.value as value_b
    from reference as a
    inner join values_ranked as b
        on
            a.enterprise_id = b.enterprise_id
            and a.attribute = b.attribute
            and a.survivor_rank < b.survivor_rank
    where a.value_key <> b.value_key
)

select
    enterprise_id || '|' || attribute || '|' || source_a || '|' || source_b as conflict_id,
    enterprise_id,
    attribute,
    source_a,
    value_a,
    source_b,
    value_b
from pairs
