-- Load batches, each source's cursor, and quarantined records (edp.storage.ops, edp.ingest).
create table if not exists ops.batches (
    batch_id text primary key,
    source text not null,
    dataset text not null,
    origin text not null default 'extract',
    status text not null,
    source_rows bigint,
    row_count bigint,
    inserted_count bigint,
    unchanged_count bigint,
    quarantined_count bigint,
    duplicate_count bigint,
    cursor_from text,
    cursor_to text,
    manifest_key text not null,
    schema_drift jsonb,
    extracted_at timestamptz not null,
    loaded_at timestamptz,
    error text
);

-- The digest of a loaded snapshot's rows: an identical snapshot later is not stored again.
alter table ops.batches add column if not exists content_digest text;

create table if not exists ops.source_state (
    source text not null,
    dataset text not null,
    cursor text,
    batch_id text,
    updated_at timestamptz not null default now(),
    primary key (source, dataset)
);

create table if not exists ops.quarantine (
    quarantine_id bigserial primary key,
    source text not null,
    dataset text not null,
    batch_id text not null,
    locator text not null,
    field text,
    reason text not null,
    record jsonb not null,
    quarantined_at timestamptz not null default now(),
    replayed_at timestamptz,
    replay_batch_id text
);

create index if not exists quarantine_open on ops.quarantine (source, dataset) where replayed_at is null;
