-- Doubted records (疑义数据) the county has not answered yet, counted per
-- dataset and the city's reason (values it quotes masked): no record key.

with

open_doubts as (
    select
        dataset,
        {{ masked_reason('reason') }} as reason,
        raised_at
    from {{ source('sync', 'feedback') }}
    where answered_version is null
)

select
    md5(dataset || '|' || reason) as open_doubt_id,
    dataset,
    reason,
    count(*) as open_count,
    min(raised_at) as oldest_raised_at,
    max(raised_at) as newest_raised_at
from open_doubts
group by dataset, reason
