"""`edp up` runs the platform as services: a REST trigger of `weather` flows by assets to the city; `edp down` ends it.

The real thing on loopback: Airflow's API server, scheduler, DAG processor and triggerer on PostgreSQL
metadata, the docs server and the stand-ins; the DAGs run on their own (unpaused) as in production.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from edp.alerts import open_alerts
from edp.cli import app
from edp.orchestration.airflow_api import AirflowApi
from edp.orchestration.services import AIRFLOW_COMPONENTS, ServiceFailed, airflow_health, down, services_status, up
from edp.runtime.background import process_tree, processes_with_env, start_ticks
from edp.runtime.processes import pid_alive
from edp.sandbox.control import sandbox_status
from edp.settings import REPO_ROOT, Settings, reset_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.airflow]

CHAIN = ("transform", "quality", "sync_anshan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def service_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Own home and warehouse (``settings``), own ports, a small sandbox."""
    monkeypatch.setenv("EDP_AIRFLOW_PORT", str(_free_port()))
    monkeypatch.setenv("EDP_DOCS_PORT", str(_free_port()))
    monkeypatch.setenv("EDP_SANDBOX_SCALE", "0.25")
    # A failed try is retried after 5 s, not 2 minutes: the outage below sees the retry fail too.
    monkeypatch.setenv("EDP_TASK_RETRY_SECONDS", "5")
    # A weather bureau that is down is given up on after 5 s of retries (120 s in production).
    sources = yaml.safe_load((REPO_ROOT / "sources.yml").read_text(encoding="utf-8"))
    sources["sources"]["weather"].setdefault("options", {})["max_seconds"] = 5
    sources_file = settings.home_dir / "sources.yml"
    sources_file.write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("EDP_SOURCES_FILE", str(sources_file))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(settings.home_subdir("run")))
    reset_settings()
    yield Settings()
    reset_settings()


def _our_processes(home: Path) -> list[int]:
    """Every live process on the machine whose environment carries this test's EDP_HOME."""
    return processes_with_env(f"EDP_HOME={home}")


def _after(run: dict, moment: str) -> bool:
    return datetime.fromisoformat(run["queued_at"]) >= datetime.fromisoformat(moment)


def _wait_chain(api: AirflowApi, since: str, timeout: float) -> dict[str, dict]:
    """The first successful run of each chained DAG queued after ``since``."""
    deadline = time.monotonic() + timeout
    found: dict[str, dict] = {}
    while time.monotonic() < deadline and len(found) < len(CHAIN):
        for dag_id in CHAIN:
            if dag_id in found:
                continue
            runs = [r for r in api.runs(dag_id) if r["queued_at"] and _after(r, since)]
            failed = [r for r in runs if r["state"] == "failed"]
            assert not failed, f"{dag_id} failed: {failed[0]['dag_run_id']}"
            done = [r for r in runs if r["state"] == "success"]
            if done:
                found[dag_id] = done[-1]
        time.sleep(3)
    assert set(found) == set(CHAIN), f"only {sorted(found)} ran after weather within {timeout:.0f} s"
    return found


# Start-up (about a minute), every DAG's first scheduled run, then the chain: on a loaded 2-core machine.
@pytest.mark.timeout(2400)
def test_up_serves_the_chain_from_a_rest_trigger_and_down_leaves_nothing(service_settings: Settings) -> None:
    s = service_settings
    try:
        first = up(s, superset=False)
        assert {f"airflow-{c}" for c in AIRFLOW_COMPONENTS} | {"docs"} <= set(first.started)
        health = airflow_health(s)
        assert all(health[c] == "healthy" for c in (*AIRFLOW_COMPONENTS, "metadatabase")), health
        assert httpx.get(first.urls["docs"], timeout=10).status_code == 200

        again = up(s, superset=False)  # twice is safe: nothing new is started
        assert again.started == []
        assert {f"airflow-{c}" for c in AIRFLOW_COMPONENTS} <= set(again.already_running)

        with AirflowApi(s) as api:
            deadline = time.monotonic() + 300
            while {"weather", *CHAIN, "warning_lane"} - {d["dag_id"] for d in api.dags()}:
                assert time.monotonic() < deadline, "the DAG processor has not registered every DAG"
                time.sleep(3)
            assert not [d["dag_id"] for d in api.dags() if d["is_paused"]]  # they run on their own
            run = api.trigger("weather")
            weather = api.wait_run("weather", run["dag_run_id"], timeout=900)
            assert weather["state"] == "success"
            chain = _wait_chain(api, weather["end_date"], timeout=1500)
        assert all(r["run_type"] == "asset_triggered" for r in chain.values())

        anshan = str((sandbox_status(s) or {})["anshan_url"])
        stats = httpx.get(f"{anshan}/__admin/stats", timeout=10).json()
        assert stats["records"] > 0 and stats["batches"] > 0
        status = services_status(s)
        assert status["airflow-scheduler"]["health"] == "healthy"

        _a_published_warning_reaches_the_city_through_the_lane(s)
        _a_source_down_is_one_alert_until_it_is_back(s)
    finally:
        # Every process under the services, tasks included (Airflow retitles its processes: their
        # environment is no longer readable, so the EDP_HOME search below does not see them all).
        tree = process_tree([pid for info in services_status(s).values() if (pid := info.get("pid"))])
        pids = _our_processes(s.home)
        stopped = down(s)
    assert pids, "the services' processes were not found by their EDP_HOME"
    assert len(tree) > len(AIRFLOW_COMPONENTS)  # the components and their children
    assert {"airflow-scheduler", "airflow-api-server", "sandbox", "docs"} <= set(stopped)
    assert [pid for pid, ticks in tree.items() if pid_alive(pid) and start_ticks(pid) == ticks] == []
    assert _our_processes(s.home) == []


def test_up_names_a_taken_port_and_stops_what_it_started(service_settings: Settings) -> None:
    s = service_settings
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", s.airflow_port))
        blocker.listen()
        try:
            with pytest.raises(ServiceFailed, match=rf"api-server: port {s.airflow_port} on 127.0.0.1 is taken"):
                up(s, superset=False)
        finally:
            down(s)
    assert _our_processes(s.home) == []


def _weather_alerts(s: Settings) -> list:
    return [a for a in open_alerts(s) if a.dataset == "weather"]


def _a_source_down_is_one_alert_until_it_is_back(s: Settings) -> None:
    """Under the running scheduler: the weather bureau goes down, one alert names it; it comes back, resolved."""
    weather = str((sandbox_status(s) or {})["weather_url"])
    httpx.post(f"{weather}/__admin/faults", json={"outage": True}, timeout=10).raise_for_status()
    with AirflowApi(s) as api:
        run = api.trigger("weather")
        deadline = time.monotonic() + 600
        while not _weather_alerts(s):
            assert time.monotonic() < deadline, "no alert for the weather bureau being down"
            time.sleep(3)
        # The retry fails the same way: the alert is counted again, not doubled.
        while (alerts := _weather_alerts(s)) and len(alerts) == 1 and alerts[0].occurrences < 2:
            assert time.monotonic() < deadline, "the retry of the weather extract did not fail again"
            time.sleep(3)
        [alert] = _weather_alerts(s)
        assert alert.occurrences >= 2
        assert alert.dag_id == "weather" and alert.task_id == "extract"
        assert alert.kind in ("source_unavailable", "task_failed")
        assert "weather" in alert.reason and ("503" in alert.reason or "unavailable" in alert.reason.lower())
        listed = CliRunner().invoke(app, ["alerts"])
        assert listed.exit_code == 0 and "weather" in listed.output and "extract" in listed.output

        httpx.post(f"{weather}/__admin/faults", json={"outage": False}, timeout=10).raise_for_status()
        # Run it again now: its retries may be spent by the time the bureau is back.
        api.client.post(
            "/api/v2/dags/weather/clearTaskInstances",
            json={"dag_run_id": run["dag_run_id"], "task_ids": ["extract"], "only_failed": False, "dry_run": False},
        ).raise_for_status()
        done = api.wait_run("weather", run["dag_run_id"], timeout=900)
    assert done["state"] == "success"
    assert _weather_alerts(s) == []


def _a_published_warning_reaches_the_city_through_the_lane(s: Settings) -> None:
    """A red warning published now is at the city by the warning lane, not the hourly chain (timed by the benchmark)."""
    from standins.weather.admin_client import publish

    info = sandbox_status(s) or {}
    weather, anshan = str(info["weather_url"]), str(info["anshan_url"])
    with AirflowApi(s) as api:
        lane_runs = len(api.runs("warning_lane"))
        sent = publish(weather, signal="暴雨", colour="红色", towns=["孤山镇"])
        deadline = time.monotonic() + 600
        while True:
            records = httpx.get(f"{anshan}/__admin/records", params={"dataset": "warnings"}, timeout=10).json()
            if any(r["record_id"] == sent["identifier"] for r in records["records"]):
                break
            assert time.monotonic() < deadline, f"warning {sent['identifier']} did not reach the city"
            time.sleep(2)
        assert len(api.runs("warning_lane")) > lane_runs  # the lane carried it


def test_up_names_an_unreachable_warehouse_and_starts_nothing(home_settings: Settings) -> None:
    with pytest.raises(ServiceFailed, match=r"^warehouse: unreachable \(OperationalError"):
        up(home_settings, superset=False)
    assert _our_processes(home_settings.home) == []
    assert not list((home_settings.home_dir / "services").glob("*.json"))
