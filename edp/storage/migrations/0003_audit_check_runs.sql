-- Every check run and every expectation result, kept as history (edp.quality.audit).
create table if not exists audit.check_runs (
    run_id text primary key,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    datasets text [] not null,
    success boolean not null,
    evaluated integer not null,
    passed integer not null,
    failed_blocking integer not null,
    failed_warning integer not null,
    data_docs_uri text
);

create table if not exists audit.expectation_results (
    id bigserial primary key,
    run_id text not null references audit.check_runs (run_id),
    dataset text not null,
    suite text not null,
    expectation_type text not null,
    expectation_id text not null,
    kwargs jsonb not null,
    column_name text,
    dimension text not null,
    dimension_zh text not null,
    severity text not null,
    success boolean not null,
    observed_value jsonb,
    element_count bigint,
    unexpected_count bigint,
    unexpected_percent double precision,
    unexpected_sample jsonb,
    exception text,
    docs_uri text,
    checked_at timestamptz not null
);

-- The load batches a failure names (from its sample), so the report can list them without parsing JSON.
alter table audit.expectation_results add column if not exists failed_batches text [];

create index if not exists expectation_results_run on audit.expectation_results (run_id, dataset);
create index if not exists expectation_results_dataset on audit.expectation_results (dataset, checked_at);

-- Verdicts of python-stdnum on unified social credit codes (edp.quality.uscc); a verdict never changes.
create table if not exists audit.credit_codes (
    code text primary key,
    is_valid boolean not null,
    reason text,
    checked_at timestamptz not null default now()
);
