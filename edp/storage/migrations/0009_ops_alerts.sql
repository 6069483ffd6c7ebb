-- Alerts (edp.alerts.store): one row per occurrence of a problem, grouped by key while it is open.
create table if not exists ops.alerts (
    id bigserial primary key,
    key text not null,
    kind text not null,
    dag_id text,
    task_id text,
    dataset text,
    reason text not null,
    first_seen_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    occurrences integer not null default 1,
    notified_at timestamptz,
    resolved_at timestamptz,
    details jsonb not null default '{}'::jsonb,
    last_delivery_error text
);

-- At most one open alert per key: the conflict target of raise().
create unique index if not exists alerts_open_key on ops.alerts (key) where resolved_at is null;
create index if not exists alerts_resolved_at on ops.alerts (resolved_at) where resolved_at is not null;
