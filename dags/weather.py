"""气象局 weather bureau → lake → raw."""

from __future__ import annotations

from edp.orchestration import DEFAULT_ARGS, RAW_WEATHER_OBSERVATIONS, START, until_from
from airflow.sdk import dag, task


@dag(
    dag_id="weather",
    schedule="@hourly",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingest", "weather", "气象局"],
    doc_md="""
### 气象局 weather bureau: stations and hourly observations
Pulls observations since the stored cursor (6-hour lookback for the bureau's
late corrections) into the lake, then loads every pending batch into
`raw.weather__*` in one transaction per batch; the cursor moves only then.
""",
)
def weather() -> None:
    @task
    def extract(data_interval_end=None) -> list[str]:
        from edp.ingest import extract as do_extract
        from edp.settings import get_settings

        manifests = do_extract(get_settings(), "weather", until=until_from(data_interval_end))
        return [m.batch_id for m in manifests]

    @task(outlets=[RAW_WEATHER_OBSERVATIONS])
    def load(batch_ids: list[str]) -> int:
        from edp.loader import load_pending
        from edp.settings import get_settings

        return len(load_pending(get_settings(), "weather"))

    load(extract())


weather()
