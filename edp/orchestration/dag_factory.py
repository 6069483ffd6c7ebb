"""What every DAG shares (imported by dags/): default args, Assets, the ingest DAG shape.

Assets are named after the warehouse objects they stand for. DAG files stay
thin: they declare a schedule and call these helpers, which call tested
library functions inside the tasks.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, dag, task

from connectors.registry import SOURCES
from edp.orchestration.pools import source_pool

log = logging.getLogger(__name__)


def alert_on_failure(context: Any) -> None:
    """``on_failure_callback`` and ``on_retry_callback``: a ``task_failed`` alert for the task. Never raises."""
    try:
        from edp.alerts.hooks import task_failed

        task_failed(context)
    except Exception:
        log.warning("the failure alert of this task was not recorded", exc_info=True)


def resolve_on_success(context: Any) -> None:
    """``on_success_callback``: resolve the open failure alert of the task. Never raises."""
    try:
        from edp.alerts.hooks import task_succeeded

        task_succeeded(context)
    except Exception:
        log.warning("the failure alert of this task was not resolved", exc_info=True)


def retry_delay() -> timedelta:
    """``EDP_TASK_RETRY_SECONDS`` (2 minutes unless set; the lost-worker test sets seconds)."""
    from edp.settings import get_settings

    return timedelta(seconds=get_settings().task_retry_seconds)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "edp-data-team",
    "retries": 2,
    "retry_delay": retry_delay(),
    # Alerts (ops.alerts): a failed try raises one (grouped: retries and reruns add to it, they do not
    # send again), so a source that is down is known at its first failure, not after the last retry;
    # the task's next success resolves it.
    "on_failure_callback": alert_on_failure,
    "on_retry_callback": alert_on_failure,
    "on_success_callback": resolve_on_success,
}
START = datetime(2026, 1, 1)


def raw_asset(source: str) -> Asset:
    """Every raw table of one source: ``raw.<source>__*``."""
    return Asset(f"postgres://warehouse/raw/{source}")


MARTS = Asset("postgres://warehouse/marts/all")
AUDIT_CHECK_RUNS = Asset("postgres://warehouse/audit/check_runs")
SYNC_RECEIPTS = Asset("postgres://warehouse/sync/receipts")


def any_raw_asset() -> Any:
    condition: Any = raw_asset(SOURCES[0])
    for source in SOURCES[1:]:
        condition = condition | raw_asset(source)
    return condition


def until_from(context_end: datetime | None) -> datetime:
    """The data interval's end, never later than now (the source has no future)."""
    now = datetime.now(UTC)
    if context_end is None:
        return now
    # Airflow hands a pendulum DateTime; the library works with stdlib datetimes.
    end = datetime.fromtimestamp(context_end.timestamp(), tz=UTC)
    return min(end, now)


def source_schedule(source: str, default: str = "@hourly") -> str | None:
    """The schedule declared in sources.yml (a small local file, cheap to parse).

    A registered source that sources.yml does not configure (``edp sources new`` registers one with its
    entry commented out) has nothing to read: its DAG is not scheduled (None), only triggered by hand.
    ``default`` when sources.yml cannot be read.
    """
    from edp.errors import NotFound
    from edp.settings import get_settings

    try:
        return get_settings().source(source).schedule
    except NotFound:
        return None
    except (KeyError, OSError):
        return default


def ingest_dag(source: str, title: str, doc_md: str, tags: list[str]) -> Any:
    """extract (source → lake) >> load (lake → raw); the load updates the source's Asset.

    Both tasks run on the source's own Celery queue (a slow department holds
    only the workers serving its queue; LocalExecutor ignores queues) and in
    its pool, whose slots are the source's limit across all workers.
    """

    @dag(
        dag_id=source,
        schedule=source_schedule(source),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "queue": source, "pool": source_pool(source)},
        tags=["ingest", source, title],
        doc_md=doc_md,
    )
    def ingest() -> None:  # noqa: RUF100
        @task
        def extract(data_interval_end: datetime | None = None, dag_run: Any = None) -> list[str]:
            from edp.ingest.extract import extract as do_extract
            from edp.settings import get_settings

            # A run triggered without a logical date has no data interval: it reads up to when it was
            # triggered, so a retry (after a lost worker) reads the same window as the first try.
            end = data_interval_end or getattr(dag_run, "run_after", None)
            return [m.batch_id for m in do_extract(get_settings(), source, until=until_from(end))]

        # all_done: datasets extracted before another one failed are still loaded.
        @task(outlets=[raw_asset(source)], trigger_rule="all_done")
        def load(batch_ids: list[str] | None = None) -> int:
            from edp.ingest.loader import load_pending
            from edp.settings import get_settings

            return len(load_pending(get_settings(), source))

        # Airflow types a task's call with the function's own parameters; at parse time an XComArg stands in.
        load(extract())  # type: ignore[arg-type]

    return ingest()
