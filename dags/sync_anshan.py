"""marts → 鞍山市 exchange API."""

from __future__ import annotations

from airflow.sdk import dag, task

from edp.orchestration.dag_factory import AUDIT_CHECK_RUNS, DEFAULT_ARGS, START, SYNC_RECEIPTS
from edp.orchestration.pools import EXCHANGE_POOL


@dag(
    dag_id="sync_anshan",
    schedule=[AUDIT_CHECK_RUNS],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["sync", "anshan", "鞍山市"],
    doc_md="""
### 鞍山市数据交换 Anshan exchange
After each quality run: new or changed mart rows become outbox versions, are
packed into signed batches and pushed with their Idempotency-Key; receipts
are stored in `sync.receipts`. Datasets with blocking quality failures are
not published.
""",
)
def sync_anshan() -> None:
    # One sync at a time, with the warning lane's (pool exchange_sync).
    @task(outlets=[SYNC_RECEIPTS], pool=EXCHANGE_POOL)
    def push() -> dict:
        from edp.orchestration.pipeline import sync

        return sync()

    push()


sync_anshan()
