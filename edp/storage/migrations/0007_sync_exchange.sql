-- The exchange with the city (edp.exchange.sync): outbox versions, stored batches, receipts.
create table if not exists sync.outbox (
    dataset text not null,
    record_id text not null,
    version bigint not null,
    op text not null check (op in ('upsert', 'delete')),
    data jsonb,
    content_sha256 text not null,
    created_at timestamptz not null default now(),
    batch_id text,
    status text not null default 'pending',
    reject_reason text,
    primary key (dataset, record_id, version)
);

create index if not exists outbox_pending on sync.outbox (dataset) where batch_id is null;

create table if not exists sync.batches (
    batch_id text primary key,
    dataset text not null,
    seq bigint not null,
    body bytea not null,
    body_sha256 text not null,
    records_sha256 text not null,
    record_count int not null,
    created_at timestamptz not null default now(),
    status text not null default 'packed',
    attempts int not null default 0,
    first_sent_at timestamptz,
    last_error text,
    receipt_id text,
    acked_at timestamptz
);

alter table sync.batches add column if not exists first_sent_at timestamptz;

create table if not exists sync.receipts (
    receipt_id text primary key,
    batch_id text not null references sync.batches (batch_id),
    accepted int not null,
    rejected jsonb not null,
    received_at timestamptz not null default now(),
    via text not null
);
