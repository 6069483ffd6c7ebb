"""What every DAG shares: default args and the Assets that link them (imported by dags/).

Assets are named after the warehouse objects they stand for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset

DEFAULT_ARGS = {
    "owner": "edp-data-team",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
}
START = datetime(2026, 1, 1)

RAW_WEATHER_OBSERVATIONS = Asset("postgres://warehouse/raw/weather__observations")
MARTS = Asset("postgres://warehouse/marts/all")
AUDIT_CHECK_RUNS = Asset("postgres://warehouse/audit/check_runs")
SYNC_RECEIPTS = Asset("postgres://warehouse/sync/receipts")


def until_from(context_end: datetime | None) -> datetime:
    """The data interval's end, never later than now (the source has no future)."""

    now = datetime.now(UTC)
    return min(context_end, now) if context_end else now
