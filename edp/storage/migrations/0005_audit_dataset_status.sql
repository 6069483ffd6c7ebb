-- "May this dataset be published?": the latest run that checked each dataset decides its status.
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
    case when bool_or(not r.success and r.severity = 'blocking') then 'blocked' else 'ok' end as status
from latest l
join audit.expectation_results r on r.run_id = l.run_id and r.dataset = l.dataset
group by l.dataset, l.run_id, l.started_at;
