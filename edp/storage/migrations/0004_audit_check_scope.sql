-- What each check run validated of each dataset (edp.quality.scope).

-- Which loaded batches some run has validated, per dataset, as loaded then (a reload is new again):
-- an incremental run takes the others.
create table if not exists audit.checked_batches (
    dataset text not null,
    batch_id text not null,
    loaded_at timestamptz,
    run_id text not null references audit.check_runs (run_id),
    primary key (dataset, batch_id)
);

-- What each run validated of each dataset, and which batches its failures name (the next run re-checks them).
create table if not exists audit.check_scopes (
    run_id text not null references audit.check_runs (run_id),
    dataset text not null,
    mode text not null check (mode in ('whole', 'full', 'incremental')),
    reason text not null,
    batches integer not null,
    batch_ids text [],
    carry text [] not null default '{}',
    carry_all boolean not null default false,
    checked_at timestamptz not null,
    primary key (run_id, dataset)
);

create index if not exists check_scopes_dataset on audit.check_scopes (dataset, checked_at);

-- The run whose failures a run carried unread (Scope.carried_from).
alter table audit.check_scopes add column if not exists carried_from text;
