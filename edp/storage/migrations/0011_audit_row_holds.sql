-- Row holds (edp.quality.holds): a failing row-level blocking rule holds back its records, not the
-- dataset. audit.dataset_status gains the status 'held' (published without those records); its
-- columns are unchanged, so the view is replaced in place.

create table if not exists audit.row_holds (
    hold_id bigserial primary key,
    run_id text not null,
    last_run_id text not null,
    dataset text not null,
    rule_id text not null,
    record_key jsonb not null,
    key_text text not null,
    batch_id text,
    observed jsonb,
    held_at timestamptz not null,
    released_at timestamptz,
    released_by text
);

create unique index if not exists row_holds_open on audit.row_holds (dataset, rule_id, key_text) where released_at is null;

create index if not exists row_holds_dataset on audit.row_holds (dataset) where released_at is null;

alter table audit.expectation_results add column if not exists level text;

alter table audit.expectation_results add column if not exists held_rows bigint;

create or replace view audit.dataset_status as
with latest as (
    select distinct on (r.dataset) r.dataset, r.run_id, c.started_at
    from audit.expectation_results r
    join audit.check_runs c using (run_id)
    order by r.dataset, c.started_at desc, r.run_id desc
)
select
    l.dataset,
    l.run_id,
    l.started_at as checked_at,
    count(*) as evaluated,
    count(*) filter (where r.success) as passed,
    count(*) filter (where not r.success and r.severity = 'blocking') as failed_blocking,
    count(*) filter (where not r.success and r.severity = 'warning') as failed_warning,
    case
        when bool_or(not r.success and r.severity = 'blocking' and r.held_rows is null) then 'blocked'
        when bool_or(not r.success and r.severity = 'blocking') then 'held'
        else 'ok'
    end as status
from latest l
join audit.expectation_results r on r.run_id = l.run_id and r.dataset = l.dataset
group by l.dataset, l.run_id, l.started_at;
