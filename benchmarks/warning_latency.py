"""How long a CAP warning takes from publication at the weather bureau to the 鞍山市 exchange, under `edp up`.

The platform runs as services (Airflow's scheduler, triggerer, DAG processor and API server on PostgreSQL
metadata, the stand-ins) on a throw-away database and home. Once the lane has run and the everyday
chain has delivered once, warnings are published one after another through the weather stand-in's admin interface
(new red and orange warnings, an update, cancellations) and the city stand-in is polled until it holds
each: an Alert or Update as its own record, a Cancel as the cancelled status of the message it
cancels. Figures: each warning's latency, the median and the worst, as ratios to the 60-second target;
and, as the baseline measured in the same run, the time the everyday chain (weather → transform →
quality → sync_anshan) took to carry the first ingest, which is what a warning waited for before the
lane. The everyday DAGs keep running on their schedules meanwhile (water every 15 minutes), as in
production. The last warning of a full run is published on purpose while the everyday transform's dbt
build runs (triggered through the REST API, published once its build task has run for 10 s): the case
that made the lane wait for the everyday build's lock before the lane had a dbt workspace of its own.

    python benchmarks/warning_latency.py            # 6 warnings
    python benchmarks/warning_latency.py --tiny     # 2 warnings (the test suite's smoke run)
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from _support import describe_run, plain_url, print_table, throwaway_database, throwaway_home

TARGET_SECONDS = 60.0
SETTLE_TIMEOUT = 1500.0
SEEN_TIMEOUT = 300.0
# (message type, signal, colour, which earlier warning it refers to: an index into the published list)
PLAN: list[tuple[str, str, str, int | None]] = [
    ("Alert", "暴雨", "红色", None),
    ("Alert", "大风", "橙色", None),
    ("Update", "暴雨", "红色", 0),
    ("Cancel", "大风", "橙色", 1),
    ("Alert", "雷电", "黄色", None),
    ("Cancel", "暴雨", "红色", 2),
]
# Published while the everyday dbt build runs (full runs only).
DURING_BUILD: tuple[str, str, str, int | None] = ("Alert", "暴雨", "橙色", None)
BUILD_RUNNING_FOR = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, ready: Callable[[], bool], timeout: float, poll: float = 2.0) -> float:
    began = time.monotonic()
    while not ready():
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(poll)
    return time.monotonic() - began


def _ready(api: Any) -> bool:
    """The lane has run once and the everyday chain has delivered once: the city holds the first data."""
    done = {r["dag_id"] for r in api.runs() if r["state"] == "success"}
    return {"warning_lane", "sync_anshan"} <= done


def _chain_seconds(api: Any) -> float:
    """The everyday chain's time to carry a change: the first weather run's start to the first sync after it."""
    weather = min((r for r in api.runs("weather") if r["state"] == "success"), key=lambda r: r["start_date"])
    start = datetime.fromisoformat(weather["start_date"])
    syncs = [
        datetime.fromisoformat(r["end_date"])
        for r in api.runs("sync_anshan")
        if r["state"] == "success" and datetime.fromisoformat(r["queued_at"]) > start
    ]
    return (min(syncs) - start).total_seconds()


def _city_records(anshan: str) -> dict[str, dict[str, Any]]:
    body = httpx.get(f"{anshan}/__admin/records", params={"dataset": "warnings"}, timeout=10).json()
    return {r["record_id"]: r for r in body["records"]}


def _arrived(anshan: str, msg_type: str, identifier: str, references: str | None) -> bool:
    records = _city_records(anshan)
    if msg_type == "Cancel":
        # A cancellation is not a warning version of its own: the message it cancels shows it.
        data = (records.get(references or "") or {}).get("data") or {}
        return data.get("status") == "cancelled" or data.get("chain_status") == "cancelled"
    return identifier in records


def _publish(weather: str, msg_type: str, signal: str, colour: str, references: str | None) -> dict[str, str]:
    from standins.weather.admin_client import publish

    return publish(weather, signal=signal, colour=colour, msg_type=msg_type, references=references, timeout=30)


def _everyday_build_running(api: Any) -> str:
    """Trigger the transform DAG and return once its dbt build task has run for a while: its run id."""
    run_id = str(api.trigger("transform")["dag_run_id"])

    def building() -> bool:
        tasks = api.task_instances("transform", run_id)
        return any(t["state"] == "running" and t["task_id"].startswith("dbt") for t in tasks)

    _wait("the everyday dbt build to start", building, SETTLE_TIMEOUT, poll=1.0)
    time.sleep(BUILD_RUNNING_FOR)
    return run_id


def _build_ended(api: Any, run_id: str) -> float:
    """When the dbt build task of the transform run ``run_id`` ended (epoch seconds), once it has."""
    api.wait_run("transform", run_id, SETTLE_TIMEOUT)
    ends = [
        datetime.fromisoformat(t["end_date"]).timestamp()
        for t in api.task_instances("transform", run_id)
        if t["task_id"].startswith("dbt") and t.get("end_date")
    ]
    return max(ends)


def _lane_stages(api: Any) -> dict[str, float]:
    """Mean seconds per task of the warning lane's runs since publication began."""
    per_task: dict[str, list[float]] = {}
    for run in api.runs("warning_lane")[:20]:
        for ti in api.task_instances("warning_lane", run["dag_run_id"]):
            if ti.get("duration"):
                per_task.setdefault(ti["task_id"], []).append(float(ti["duration"]))
    return {task: statistics.mean(values) for task, values in per_task.items()}


def measure(count: int, during_build: bool) -> None:
    from edp.orchestration.airflow_api import AirflowApi
    from edp.orchestration.services import down, up
    from edp.sandbox.control import sandbox_status
    from edp.settings import Settings, reset_settings

    with throwaway_database("edp_bench_lane") as url, throwaway_home("edp-bench-lane-") as home:
        os.environ.update(
            {
                "EDP_HOME": str(home),
                "EDP_WAREHOUSE_URL": plain_url(url),
                "EDP_AIRFLOW_PORT": str(_free_port()),
                "EDP_DOCS_PORT": str(_free_port()),
                "EDP_SANDBOX_SCALE": "0.25",
                "XDG_RUNTIME_DIR": str(home / "run"),
            }
        )
        (home / "run").mkdir(parents=True, exist_ok=True)
        reset_settings()
        settings = Settings()
        try:
            began = time.monotonic()
            up(settings, superset=False)
            up_seconds = time.monotonic() - began
            info = sandbox_status(settings) or {}
            weather, anshan = str(info["weather_url"]), str(info["anshan_url"])
            with AirflowApi(settings) as api:
                settle_seconds = _wait("the first lane run and the first sync", lambda: _ready(api), SETTLE_TIMEOUT)
                chain_seconds = _chain_seconds(api)
                rows = []
                published: list[str] = []
                plan = [(*step, False) for step in PLAN[:count]] + ([(*DURING_BUILD, True)] if during_build else [])
                for msg_type, signal, colour, ref, in_build in plan:
                    references = published[ref] if ref is not None else None
                    build_run = _everyday_build_running(api) if in_build else None
                    sent = _publish(weather, msg_type, signal, colour, references)
                    t0 = time.time()
                    identifier = str(sent["identifier"])
                    published.append(identifier)
                    label = msg_type + (", the everyday dbt build running" if in_build else "")
                    try:
                        _wait(
                            f"{msg_type} {identifier} at the city",
                            lambda mt=msg_type, i=identifier, r=references: _arrived(anshan, mt, i, r),
                            SEEN_TIMEOUT,
                            poll=0.5,
                        )
                    except TimeoutError:
                        rows.append((label, f"{signal}{colour}", identifier, None))
                        print(f"   {label} {identifier}: not at the city within {SEEN_TIMEOUT:.0f} s", flush=True)
                        continue
                    seen = time.time()
                    published_at = datetime.fromisoformat(str(sent["sent"])).timestamp()
                    latency = seen - min(t0, published_at + 1.0)  # `sent` has whole seconds
                    if build_run is not None:
                        ended = _build_ended(api, build_run)
                        label += f" (it ended {ended - published_at:.0f} s after publication)"
                    rows.append((label, f"{signal}{colour}", identifier, latency))
                    print(f"   {label} {identifier}: {latency:.1f} s", flush=True)
                    time.sleep(5)
                stages = _lane_stages(api)
        finally:
            down(settings)
    latencies = [r[3] for r in rows if r[3] is not None]
    median = statistics.median(latencies) if latencies else None
    worst = max(latencies) if latencies else None
    missed = len(rows) - len(latencies)

    def cells(seconds: float | None) -> tuple[str, str]:
        if seconds is None:
            return f"> {SEEN_TIMEOUT:.0f}", "-"
        return f"{seconds:.1f}", f"{seconds / TARGET_SECONDS:.2f}"

    print_table(
        "warning latency: publication at the weather bureau → record at 鞍山市 (edp up, warning_lane)",
        ["message", "warning", "identifier", "seconds", "× 60 s target"],
        [(m, w, i, *cells(s)) for m, w, i, s in rows]
        + [
            ("median", "", "", *cells(median)),
            ("worst", "", "", *cells(worst if not missed else None)),
            ("baseline: everyday chain", "weather → sync_anshan", "", f"{chain_seconds:.1f}", ""),
        ],
        notes=[
            f"worst seen / everyday chain: {(worst or 0) / chain_seconds:.2f}; not seen: {missed}; "
            f"`edp up` {up_seconds:.0f} s; "
            f"first lane run and sync after {settle_seconds:.0f} s",
            "lane task means (s): " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(stages.items())),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=len(PLAN), help="warnings to publish (at most 6)")
    parser.add_argument("--tiny", action="store_true", help="two warnings: the smoke run")
    args = parser.parse_args()
    describe_run("warning latency")
    measure(2 if args.tiny else min(args.count, len(PLAN)), during_build=not args.tiny)


if __name__ == "__main__":
    main()
