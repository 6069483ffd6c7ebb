-- The city's doubted records (edp.exchange.ledger.pull_feedback); dbt's marts.rpt_exchange_ views read it
-- from the first transform on, before the first pull.
create table if not exists sync.feedback (
    feedback_id text primary key,
    dataset text not null,
    record_id text not null,
    reason text not null,
    raised_at timestamptz not null,
    pulled_at timestamptz not null default now(),
    -- The version the city doubted: any later accepted version answers it.
    doubted_version bigint,
    answered_version bigint,
    answered_at timestamptz
);
