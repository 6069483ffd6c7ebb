-- Quarantined records counted by source, dataset, field and reason. The
-- record itself never leaves ops.quarantine, and the values a reason quotes
-- are masked (macro masked_reason), so a reason names the rule, not the record.

with

quarantined as (
    select
        source,
        dataset,
        coalesce(field, '-') as field,
        {{ masked_reason('reason') }} as reason,
        quarantined_at,
        replayed_at
    from {{ source('ops', 'quarantine') }}
)

select
    md5(source || '|' || dataset || '|' || field || '|' || reason) as quarantine_reason_id,
    source,
    dataset,
    field,
    reason,
    count(*) as quarantined_count,
    count(*) filter (where replayed_at is null) as open_count,
    count(*) filter (where replayed_at is not null) as replayed_count,
    min(quarantined_at) as first_quarantined_at,
    max(quarantined_at) as last_quarantined_at
from quarantined
group by source, dataset, field, reason
