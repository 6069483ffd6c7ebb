-- Quality pass rate per dataset (source table or mart), GB/T 36344 dimension
-- and 海城市 day of the check run: one evaluation = one rule on one dataset in
-- one run (as in the auditor's report, edp.quality.report_data).

with

results as (
    select
        results.dataset,
        results.dimension,
        results.dimension_zh,
        results.severity,
        results.success,
        {{ local_date('runs.started_at') }} as check_date
    from {{ source('audit', 'expectation_results') }} as results
    inner join {{ source('audit', 'check_runs') }} as runs on results.run_id = runs.run_id
),

daily as (
    select
        dataset,
        dimension,
        check_date,
        max(dimension_zh) as dimension_zh,
        count(*) as evaluated_count,
        count(*) filter (where success) as passed_count,
        count(*) filter (where not success and severity = 'blocking') as failed_blocking_count,
        count(*) filter (where not success and severity = 'warning') as failed_warning_count
    from results
    group by dataset, dimension, check_date
)

select
    dataset || '|' || dimension || '|' || to_char(check_date, 'YYYYMMDD') as quality_daily_id,
    check_date,
    dataset,
    {{ checked_dataset_layer_source('dataset') }},
    dimension,
    dimension_zh,
    evaluated_count,
    passed_count,
    failed_blocking_count,
    failed_warning_count,
    round(cast(passed_count as numeric) / evaluated_count, 4) as pass_rate
from daily
