-- Each checked dataset's verdict now: its latest check run decides whether it
-- is blocked (a blocking rule failed: not synchronised to Anshan).

select
    dataset,
    {{ checked_dataset_layer_source('dataset') }},
    checked_at,
    cast(evaluated as bigint) as evaluated_count,
    cast(passed as bigint) as passed_count,
    cast(failed_blocking as bigint) as failed_blocking_count,
    cast(failed_warning as bigint) as failed_warning_count,
    status,
    status = 'blocked' as is_blocked
from {{ source('audit', 'dataset_status') }}
