-- The auditor's quality reports (edp.quality.report): every version kept.
create table if not exists audit.quality_reports (
    report_id text not null,
    period_from date not null,
    period_to date not null,
    generated_at timestamptz not null,
    content jsonb not null,
    primary key (report_id, generated_at)
);

-- The sync's dataset quality_reports: one record per report id, its latest version.
create or replace view audit.quality_reports_latest as
select distinct on (report_id) report_id, period_from, period_to, generated_at, content
from audit.quality_reports order by report_id, generated_at desc;
