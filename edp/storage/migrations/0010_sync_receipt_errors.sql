-- A 200 whose body is not a verified receipt of the batch is a protocol error: the batch keeps
-- status 'receipt_invalid' (and stays pending), and what the city answered is kept here for the
-- operator and the auditor (edp.exchange.receipts).
create table if not exists sync.receipt_errors (
    id bigserial primary key,
    batch_id text not null references sync.batches (batch_id),
    dataset text not null,
    via text not null,
    problem text not null,
    reply_excerpt text,
    reply_sha256 text,
    received_at timestamptz not null default now()
);

create index if not exists receipt_errors_batch on sync.receipt_errors (batch_id);
