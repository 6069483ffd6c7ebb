"""Scale-out on Celery: `edp up --workers 2`, one worker lost mid-task, the task retried on the other.

The worker running the weather DAG's extract is killed (SIGKILL, its whole
session: the worker, its pool processes and the task runner, which Airflow
puts in a process group of its own) while the extract talks to the stand-in.
The scheduler fails the task once its heartbeats stop, Airflow retries it on
the surviving worker, and raw then holds exactly the rows an undisturbed run
into a fresh warehouse holds: nothing lost, nothing twice.
"""

from __future__ import annotations

import os
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from typer.testing import CliRunner

from edp.cli import app
from edp.errors import ConfigError
from edp.ingest.extract import extract
from edp.ingest.loader import load_pending
from edp.ingest.sources import declared_datasets
from edp.orchestration.airflow_run import admin_password, api_url
from edp.orchestration.services import (
    ServiceFailed,
    down,
    services_dir,
    services_status,
    up,
    worker_node,
    worker_process,
)
from edp.runtime.processes import session_members
from edp.sandbox.control import sandbox_status
from edp.sandbox.link import sandbox_url
from edp.settings import Settings, reset_settings
from edp.storage.migrate import migrate_url
from edp.storage.warehouse import connection_info, engine

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

REDIS_URL = os.environ.get("EDP_TEST_REDIS_URL", "redis://127.0.0.1:6379")
OWNER_KEY = "edp-test:owner"
# Each request to the weather stand-in waits this long while the worker is to be lost: the extract lasts.
SLOW_SECONDS = 2.0
# Without heartbeats for this long a running task is failed (and retried); Airflow's default is 300 s.
HEARTBEAT_TIMEOUT = 60
# The failed try is retried after this long (EDP_TASK_RETRY_SECONDS); the DAGs' default is 120 s, which the
# test would only wait out: what it proves is where and how the retry runs, not when.
RETRY_SECONDS = 5
UP_TIMEOUT = 420.0
RUN_TIMEOUT = 900.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A Redis database (1-15) of this test's own: empty when taken, marked, emptied afterwards."""
    import redis

    owner = uuid.uuid4().hex
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL} (EDP_TEST_REDIS_URL) for Celery's broker")
    for db in random.sample(range(1, 16), 15):
        client = redis.Redis.from_url(f"{REDIS_URL}/{db}")
        if client.set(OWNER_KEY, owner, nx=True, ex=3600) and client.dbsize() == 1:
            break
        if client.get(OWNER_KEY) == owner.encode():
            client.delete(OWNER_KEY)  # ours, but someone else's keys are there too
        client.close()
    else:
        pytest.fail(f"no empty database on the Redis at {REDIS_URL} for this test's broker")
    try:
        yield f"{REDIS_URL}/{db}"
    finally:
        client.flushdb()
        client.close()


def _celery_env(monkeypatch: pytest.MonkeyPatch, broker: str) -> Settings:
    env = {
        "EDP_AIRFLOW_EXECUTOR": "celery",
        "EDP_CELERY_BROKER_URL": broker,
        "EDP_AIRFLOW_PORT": str(_free_port()),
        "EDP_DOCS_PORT": str(_free_port()),
        # Only the runs the test triggers: no scheduled runs of the other DAGs, no asset-triggered transform.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
        "EDP_TASK_RETRY_SECONDS": str(RETRY_SECONDS),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    return Settings()


@pytest.fixture
def celery_settings(settings: Settings, broker_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return _celery_env(monkeypatch, broker_url)


def processes_of(home: Path) -> list[int]:
    """Live processes started for this EDP_HOME (it is in their environment), other than this one."""
    marker = f"EDP_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


@dataclass
class Api:
    """Airflow's REST API as the admin user."""

    base: str
    token: str

    @classmethod
    def login(cls, settings: Settings) -> Api:
        base = api_url(settings)
        resp = httpx.post(
            f"{base}/auth/token", json={"username": "admin", "password": admin_password(settings)}, timeout=30
        )
        resp.raise_for_status()
        return cls(base, resp.json()["access_token"])

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, f"{self.base}/api/v2{path}", headers=headers, timeout=30, **kwargs)

    def get(self, path: str) -> dict[str, Any]:
        resp = self.call("GET", path)
        resp.raise_for_status()
        return dict(resp.json())

    def task(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")


def wait_for(what: str, probe: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = probe()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def kill_session(leader: int) -> list[int]:
    """SIGKILL a worker and everything it started, as a lost host would: the session, not only the group."""
    members = session_members(leader)
    for pid in members:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    return members


def extracted(settings: Settings) -> list[str]:
    """The datasets with a batch registered in ops.batches so far (none before the first extract made ops)."""
    try:
        with engine(settings).connect() as c:
            return list(c.execute(sa.text("select dataset from ops.batches order by extracted_at")).scalars())
    except sa.exc.ProgrammingError:
        return []


def raw_rows(settings: Settings) -> dict[str, Counter[tuple[int, str]]]:
    """Per raw table of the weather source: how often each (key, content of every declared field) is stored."""
    rows: dict[str, Counter[tuple[int, str]]] = {}
    with engine(settings).connect() as c:
        for ds in declared_datasets("weather").values():
            content = ", ".join(f'"{f}"' for f in ds.field_names)
            result = c.execute(sa.text(f'select _row_key, md5(row({content})::text) from raw."{ds.table}"'))
            rows[ds.table] = Counter((int(k), h) for k, h in result)
    return rows


@pytest.fixture
def reference_db(settings: Settings) -> Iterator[str]:
    """A second database on the warehouse's server, for an undisturbed run of the same extraction."""
    conn = connection_info(settings)
    name = f"{conn.dbname}_ref"
    admin = sa.create_engine(conn.sqlalchemy_url().set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    try:
        migrate_url(conn.sqlalchemy_url().set(database=name))
        yield conn.sqlalchemy_url().set(database=name).render_as_string(hide_password=False)
    finally:
        from edp.storage import warehouse

        warehouse._engine_for.cache_clear()
        with admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_a_lost_worker_loses_nothing_and_duplicates_nothing(
    celery_settings: Settings, reference_db: str, tmp_path: Path
) -> None:
    s = celery_settings
    figures: dict[str, Any] = {}
    try:
        began = time.monotonic()
        result = up(s, superset=False, workers=2, timeout=UP_TIMEOUT)
        figures["up_seconds"] = round(time.monotonic() - began)
        assert {"airflow-celery-worker-1", "airflow-celery-worker-2"} <= set(result.started)
        workers = {n: worker_process(s, n).pid() for n in (1, 2)}
        assert all(workers.values())
        status = services_status(s)
        assert {status[f"airflow-celery-worker-{n}"]["health"] for n in (1, 2)} == {"healthy"}
        api = Api.login(s)
        pools = {p["name"]: p["slots"] for p in api.get("/pools")["pools"]}
        assert pools["source_weather"] == 1
        assert pools["exchange_sync"] == 1  # the syncs to the city, one at a time

        # The stand-in's clock stands still: every extraction of the run's window sees the same rows.
        weather = sandbox_url(s, "weather")
        httpx.post(f"{weather}/__admin/clock", json={"now": datetime.now(UTC).isoformat()}).raise_for_status()
        httpx.post(f"{weather}/__admin/faults", json={"slow_seconds": SLOW_SECONDS}).raise_for_status()
        wait_for("DAG weather parsed", lambda: api.call("GET", "/dags/weather").status_code == 200, 300)
        retry = api.get("/dags/weather/tasks/extract")["retry_delay"]
        assert (retry["days"], retry["seconds"]) == (0, RETRY_SECONDS), retry  # EDP_TASK_RETRY_SECONDS
        resp = api.call("POST", "/dags/weather/dagRuns", json={"logical_date": None})
        assert resp.status_code == 200, resp.text
        run = resp.json()
        run_id = run["dag_run_id"]

        first = wait_for(
            "extract running",
            lambda: (t := api.task("weather", run_id, "extract"))["state"] == "running" and t["pid"] and t,
            600,
            every=0.5,
        )
        assert first["try_number"] == 1 and first["queue"] == "weather" and first["pool"] == "source_weather"
        victim = next(n for n, pid in workers.items() if pid == os.getsid(first["pid"]))
        survivor = 3 - victim
        # Mid-extract: the stations batch is whole and registered, the observations still being read
        # (one request per SLOW_SECONDS); the retry registers its own stations batch as well.
        wait_for("the first try's stations batch", lambda: "stations" in extracted(s), 300, every=0.2)
        assert "observations" not in extracted(s)
        assert api.task("weather", run_id, "extract")["state"] == "running"
        killed = kill_session(workers[victim])
        killed_at = time.monotonic()
        assert first["pid"] in killed
        figures["registered_by_the_lost_try"] = extracted(s)
        httpx.post(f"{weather}/__admin/faults", json={"slow_seconds": 0.5}).raise_for_status()

        seen: dict[str, Any] = {}

        def retried_and_done() -> bool:
            t = api.task("weather", run_id, "extract")
            if t["try_number"] == 2 and t["state"] == "running" and t["pid"] and "sid" not in seen:
                seen["sid"] = os.getsid(t["pid"])
                seen["retry_after"] = round(time.monotonic() - killed_at)
            state = api.get(f"/dags/weather/dagRuns/{run_id}")["state"]
            return state in ("success", "failed")

        wait_for("the run to end", retried_and_done, RUN_TIMEOUT)
        figures["seconds_kill_to_retry"] = seen.get("retry_after")
        figures["seconds_kill_to_success"] = round(time.monotonic() - killed_at)
        final = api.get(f"/dags/weather/dagRuns/{run_id}")
        extract_ti = api.task("weather", run_id, "extract")
        assert final["state"] == "success", (final, extract_ti)
        assert extract_ti["try_number"] == 2
        assert seen.get("sid") == workers[survivor], f"try 2 ran in session {seen.get('sid')}, workers {workers}"
        assert api.task("weather", run_id, "load")["state"] == "success"

        # The same extraction, undisturbed, into a fresh warehouse and lake: what raw must hold.
        # The window the DAG read: up to its data interval's end, or (triggered without one) to when it was triggered.
        until = datetime.fromisoformat(final["data_interval_end"] or final["run_after"])
        reference = s.model_copy(
            update={"warehouse_url": SecretStr(reference_db), "lake_url": (tmp_path / "lake-ref").as_uri()}
        )
        extract(reference, "weather", until=until)
        load_pending(reference, "weather")
        with engine(s).connect() as c:
            batches = c.execute(sa.text("select dataset, status, inserted_count from ops.batches")).all()
        figures["batches"] = [tuple(b) for b in batches]
        assert sorted(b.dataset for b in batches if b.status == "loaded") == sorted(
            ["stations", "stations", "observations", "warnings"]
        )
    finally:
        down(s)
    assert processes_of(s.home) == [], "down left processes of this home running"

    got, want = raw_rows(s), raw_rows(reference)
    figures["rows"] = {table: sum(rows.values()) for table, rows in got.items()}
    print(f"celery lost-worker figures: {figures}")
    for table, rows in got.items():
        twice = [key for key, n in rows.items() if n > 1]
        assert not twice, f"raw.{table}: {len(twice)} rows stored more than once"
        assert rows == want[table], (
            f"raw.{table}: {sum(rows.values())} rows, an undisturbed run {sum(want[table].values())}"
        )
    assert figures["rows"]["weather__observations"] > 1000


def test_up_with_the_broker_down_fails_in_one_line_and_leaves_nothing_running(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _celery_env(monkeypatch, "redis://127.0.0.1:1/0")

    with pytest.raises(ServiceFailed) as failed:
        up(s, superset=False, workers=2, timeout=60)
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith("celery broker 127.0.0.1:1/0: unreachable")

    cli = CliRunner().invoke(app, ["up", "--no-superset", "--workers", "2"])
    assert cli.exit_code == ServiceFailed.exit_code
    assert cli.output.strip().splitlines() == [f"edp up failed: {message}"]

    assert not list(services_dir(s).glob("*.json"))
    assert not (sandbox_status(s) or {}).get("running")
    assert processes_of(s.home) == []


def test_workers_need_the_celery_executor_and_have_names_of_their_own(home_settings: Settings) -> None:
    with pytest.raises(ConfigError, match="EDP_AIRFLOW_EXECUTOR=celery"):
        up(home_settings, superset=False, workers=2)
    assert worker_node(1) != worker_node(2)
    assert worker_node(1).startswith("worker1@")
