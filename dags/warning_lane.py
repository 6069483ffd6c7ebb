"""预警快速通道 the warning lane: a CAP warning at the city within a minute of its publication."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, AssetWatcher, dag, task

from edp.orchestration.cap_watch import CapFeedTrigger
from edp.orchestration.dag_factory import DEFAULT_ARGS, START
from edp.orchestration.pools import EXCHANGE_POOL

# The bureau's feed as an Asset: the triggerer watches it and each new entry is an event.
CAP_FEED = Asset(
    "weather_cap_feed",
    uri="https://weather.source/cap/feed",
    watchers=[AssetWatcher(name="cap_feed_watcher", trigger=CapFeedTrigger(poll_seconds=5.0))],
)


@dag(
    dag_id="warning_lane",
    schedule=[CAP_FEED],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "retries": 3, "retry_delay": timedelta(seconds=10)},
    tags=["warnings", "weather", "预警", "fast lane"],
    doc_md="""
### 预警快速通道 warning lane
Runs when the triggerer sees a new entry in the weather bureau's CAP feed
(polled every 5 s; `edp.orchestration.cap_watch`): pulls the warnings only,
builds the dbt models between `stg_weather__warnings` and `fct_warning` with
their tests (in a dbt workspace of its own: it does not wait for the everyday
build; a model both build is built by one at a time), checks the two suites
that gate the `warnings` exchange dataset, and sends the changed warnings to
鞍山市 (pool `exchange_sync`: one sync at a time, the everyday one included).
The hourly `weather` DAG and the everyday chain still carry everything else
(and the warnings again).
""",
)
def warning_lane() -> None:
    @task
    def ingest() -> dict:
        from edp.orchestration.warning_lane import ingest_warnings
        from edp.settings import get_settings

        return ingest_warnings(get_settings())

    @task
    def build_and_check() -> dict:
        from edp.orchestration.warning_lane import build_and_check_warnings
        from edp.settings import get_settings

        return build_and_check_warnings(get_settings())

    @task(pool=EXCHANGE_POOL)
    def sync() -> dict:
        from edp.orchestration.warning_lane import sync_warnings
        from edp.settings import get_settings

        return sync_warnings(get_settings())

    ingest() >> build_and_check() >> sync()


warning_lane()
