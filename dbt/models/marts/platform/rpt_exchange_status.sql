-- The Anshan exchange per dataset now: last send, receipt and acknowledgement,
-- the lag (how long the oldest record not yet accepted or rejected has been
-- waiting, as `edp sync status` reports it), batches and receipts, records
-- by state, and doubted records (疑义数据) not yet answered. A view: the lag
-- is measured when it is read.

with

outbox as (
    select
        dataset,
        count(*) filter (where batch_id is null) as pending_count,
        count(*) filter (where batch_id is not null and status not in ('accepted', 'rejected')) as in_flight_count,
        count(*) filter (where status = 'accepted') as accepted_count,
        count(*) filter (where status = 'rejected') as rejected_count,
        min(created_at) filter (where status not in ('accepted', 'rejected')) as oldest_waiting_at
    from {{ source('sync', 'outbox') }}
    group by dataset
),

batches as (
    select
        dataset,
        count(*) as batch_count,
        count(*) filter (where status = 'acked') as acked_batch_count,
        max(first_sent_at) as last_sent_at,
        max(acked_at) as last_acked_at
    from {{ source('sync', 'batches') }}
    group by dataset
),

receipts as (
    select
        batches.dataset,
        count(*) as receipt_count,
        max(receipts.received_at) as last_receipt_at
    from {{ source('sync', 'receipts') }} as receipts
    inner join {{ source('sync', 'batches') }} as batches on receipts.batch_id = batches.batch_id
    group by batches.dataset
),

doubts as (
    select
        dataset,
        count(*) filter (where answered_version is null) as doubted_open_count,
        min(raised_at) filter (where answered_version is null) as oldest_open_doubt_at
    from {{ source('sync', 'feedback') }}
    group by dataset
),

datasets as (
    select dataset from outbox
    union
    select dataset from batches
    union
    select dataset from doubts
)

select
    datasets.dataset,
    batches.last_sent_at,
    receipts.last_receipt_at,
    batches.last_acked_at,
    round(cast(extract(epoch from now() - outbox.oldest_waiting_at) / 60.0 as numeric), 1) as lag_minutes,
    coalesce(batches.batch_count, 0) as batch_count,
    coalesce(batches.acked_batch_count, 0) as acked_batch_count,
    coalesce(receipts.receipt_count, 0) as receipt_count,
    coalesce(outbox.pending_count, 0) as pending_count,
    coalesce(outbox.in_flight_count, 0) as in_flight_count,
    coalesce(outbox.accepted_count, 0) as accepted_count,
    coalesce(outbox.rejected_count, 0) as rejected_count,
    coalesce(doubts.doubted_open_count, 0) as doubted_open_count,
    doubts.oldest_open_doubt_at
from datasets
left join outbox on datasets.dataset = outbox.dataset
left join batches on datasets.dataset = batches.dataset
left join receipts on datasets.dataset = receipts.dataset
left join doubts on datasets.dataset = doubts.dataset
