"""`edp up` / `edp down`: the platform as long-running services on one host (平台服务).

What runs: the warehouse (embedded or configured), the stand-ins where sources
are the sandbox, Airflow's API server (with the UI), scheduler, DAG processor
and triggerer (and Celery workers with ``EDP_AIRFLOW_EXECUTOR=celery``), the
docs server and Superset. Each Airflow component is a process of its own in its
own session, recorded in ``$EDP_HOME/services/``; ``up`` starts only what is not
running, so running it twice is safe, and a component that fails to start stops
everything this ``up`` started, with one line naming the service and the cause.
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import httpx

from connectors.registry import SOURCES
from edp.errors import ConfigError, EdpError
from edp.orchestration.airflow_run import (
    admin_password,
    airflow_env,
    api_url,
    log_server_ports,
    migrate,
    passwords_file,
)
from edp.runtime.background import Background, process_tree, sweep
from edp.runtime.processes import port_in_use
from edp.settings import Settings

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# Airflow's Celery queues: one per department, so a slow source cannot hold the others' workers.
QUEUES = ("default", *SOURCES)
WORKER_CONCURRENCY = 4
SERVICE_MARK = "EDP_SERVICES_OF"
START_TIMEOUT = 240.0
STOP_TIMEOUT = 30.0
HEALTH_TIMEOUT = 5.0


class ServiceFailed(EdpError):
    """A service of `edp up` could not start."""

    exit_code = 8


@dataclass
class UpResult:
    urls: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "urls": self.urls,
            "credentials": self.credentials,
            "started": self.started,
            "already_running": self.already_running,
            "seconds": round(self.seconds, 1),
        }


def services_dir(settings: Settings) -> Path:
    return settings.home_subdir("services")


def _airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _edp_bin() -> str:
    return str(Path(sys.executable).with_name("edp"))


def airflow_process(settings: Settings, component: str) -> Background:
    return Background(f"airflow-{component}", services_dir(settings))


def worker_process(settings: Settings, index: int) -> Background:
    return Background(f"airflow-celery-worker-{index}", services_dir(settings))


def docs_process(settings: Settings) -> Background:
    return Background("docs", services_dir(settings))


def _component_argv(settings: Settings, component: str) -> list[str]:
    if component == "api-server":
        return [_airflow_bin(), "api-server", "--host", "127.0.0.1", "--port", str(settings.airflow_port)]
    return [_airflow_bin(), component]


def worker_node(index: int) -> str:
    """Celery's name of this host's worker ``index`` (names must differ between workers of one host)."""
    return f"worker{index}@{socket.gethostname()}"


def worker_argv(
    settings: Settings,
    queues: tuple[str, ...] = QUEUES,
    concurrency: int = WORKER_CONCURRENCY,
    *,
    node: str | None = None,
    serve_logs: bool = True,
) -> list[str]:
    """``airflow celery worker`` serving ``queues``.

    ``serve_logs=False`` for the workers of ``edp up``: they share this host's
    log folder with the API server, which reads the files itself, and a second
    log server on one host would find the port taken.
    """
    argv = [
        _airflow_bin(),
        "celery",
        "worker",
        "--queues",
        ",".join(queues),
        "--concurrency",
        str(concurrency),
        "--without-mingle",
        "--without-gossip",
    ]
    if node:
        argv += ["--celery-hostname", node]
    if not serve_logs:
        argv.append("--skip-serve-logs")
    return argv


def airflow_health(settings: Settings) -> dict[str, str]:
    """Per component, 'healthy' / 'unhealthy' / 'unknown', as the API server's monitor reports them."""
    try:
        resp = httpx.get(f"{api_url(settings)}/api/v2/monitor/health", timeout=HEALTH_TIMEOUT)
        body = resp.json() if resp.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {"api-server": "unreachable"}
    health = {"api-server": "healthy"}
    for key, name in (
        ("metadatabase", "metadatabase"),
        ("scheduler", "scheduler"),
        ("dag_processor", "dag-processor"),
        ("triggerer", "triggerer"),
    ):
        health[name] = str((body.get(key) or {}).get("status") or "unknown")
    return health


def _component_healthy(settings: Settings, component: str) -> bool:
    return airflow_health(settings).get(component) == "healthy"


def _worker_ready(settings: Settings, node: str) -> bool:
    return node in workers_answering(settings, [node])


def _docs_healthy(settings: Settings) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{settings.docs_port}/", timeout=HEALTH_TIMEOUT).status_code < 500
    except httpx.HTTPError:
        return False


def _wait(what: str, ready: Callable[[], bool], process: Background | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if process is not None and process.pid() is None:
            cause = process.last_error_line() or "it exited"
            raise ServiceFailed(f"{what} stopped during start-up: {cause} (log {process.log})")
        time.sleep(1.0)
    raise ServiceFailed(f"{what} not ready within {timeout:.0f} s (log {process.log if process else '-'})")


def _uses_sandbox(settings: Settings) -> bool:
    return settings.anshan_url == "sandbox" or any(c.url == "sandbox" for c in settings.sources().values())


class _Stoppable(Protocol):
    @property
    def name(self) -> str: ...

    def stop(self, timeout: float = ...) -> bool: ...


@dataclass(frozen=True)
class _Undo:
    """Something this ``up`` started that is not a :class:`Background` (the sandbox, the embedded warehouse)."""

    name: str
    action: Callable[[], object]

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        self.action()
        return True


def up(
    settings: Settings,
    *,
    superset: bool = True,
    workers: int | None = None,
    timeout: float = START_TIMEOUT,
    echo: Callable[[str], None] = lambda _line: None,
) -> UpResult:
    """Start every service that is not running; wait until each is healthy.

    On a failure everything this call started is stopped again, the last first.
    """
    began = time.monotonic()
    result = UpResult()
    started: list[_Stoppable] = []
    _preflight(settings)
    try:
        _start_all(
            settings, superset=superset, workers=workers, timeout=timeout, echo=echo, result=result, started=started
        )
    except BaseException:
        for process in reversed(started):
            process.stop(STOP_TIMEOUT)
        raise
    result.started = [p.name for p in started] + result.started
    result.seconds = time.monotonic() - began
    return result


def _preflight(settings: Settings) -> None:
    """Ports this home's services need and do not hold yet: checked before anything starts."""
    worker_logs, trigger_logs = log_server_ports(settings)
    wanted = {
        "airflow api-server": (settings.airflow_port, airflow_process(settings, "api-server"), "EDP_AIRFLOW_PORT"),
        "docs server": (settings.docs_port, docs_process(settings), "EDP_DOCS_PORT"),
        "airflow log server (workers)": (worker_logs, airflow_process(settings, "scheduler"), "EDP_AIRFLOW_PORT"),
        "airflow log server (triggerer)": (trigger_logs, airflow_process(settings, "triggerer"), "EDP_AIRFLOW_PORT"),
    }
    for name, (port, process, variable) in wanted.items():
        if process.pid() is None and port_in_use(port):
            raise ServiceFailed(
                f"{name}: port {port} on 127.0.0.1 is taken by another program (free it or change {variable})"
            )


def _start(
    process: Background,
    argv: list[str],
    env: dict[str, str],
    port: int | None,
    started: list[_Stoppable],
    result: UpResult,
) -> bool:
    if process.pid() is not None:
        result.already_running.append(process.name)
        return False
    if port is not None and port_in_use(port):
        raise ServiceFailed(
            f"{process.name}: port {port} on 127.0.0.1 is taken by another program (free it or change its EDP_*_PORT)"
        )
    process.start(argv, env)
    started.append(process)
    return True


def _start_warehouse_and_sandbox(
    settings: Settings, echo: Callable[[str], None], result: UpResult, started: list[_Stoppable]
) -> None:
    import sqlalchemy as sa

    from edp.storage.warehouse import engine, is_embedded, stop_embedded

    embedded = is_embedded(settings)
    echo("warehouse: " + ("embedded PostgreSQL" if embedded else "configured PostgreSQL"))
    was_running = (settings.home / "pg" / "postmaster.pid").exists()
    try:
        with engine(settings).connect() as c:
            c.execute(sa.text("select 1"))
    except Exception as exc:  # the driver's own errors: one line, the cause's class and first line
        raise ServiceFailed(
            f"warehouse: unreachable ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
        ) from None
    if embedded and not was_running:
        started.append(_Undo("warehouse", lambda: stop_embedded(settings)))
    if _uses_sandbox(settings):
        from edp.sandbox.control import sandbox_down, sandbox_status, sandbox_up

        echo("sandbox: stand-ins of the department systems and the 鞍山市 exchange")
        sandbox_was_running = bool((sandbox_status(settings) or {}).get("running"))
        info = sandbox_up(settings)
        if not sandbox_was_running:
            started.append(_Undo("sandbox", lambda: sandbox_down(settings)))
        result.urls["anshan_standin"] = str(info.get("anshan_url", ""))


def _start_workers(
    settings: Settings,
    env: dict[str, str],
    count: int,
    timeout: float,
    echo: Callable[[str], None],
    result: UpResult,
    started: list[_Stoppable],
) -> None:
    """Celery workers 1..count of this host, each serving every queue; wait until each answers a ping."""
    for index in range(1, count + 1):
        node = worker_node(index)
        argv = worker_argv(settings, node=node, serve_logs=False)
        if _start(worker_process(settings, index), argv, env, None, started, result):
            echo(f"airflow: celery worker {node} started")
    for index in range(1, count + 1):
        node = worker_node(index)
        _wait(f"celery worker {node}", partial(_worker_ready, settings, node), worker_process(settings, index), timeout)


def _start_all(
    settings: Settings,
    *,
    superset: bool,
    workers: int | None,
    timeout: float,
    echo: Callable[[str], None],
    result: UpResult,
    started: list[_Stoppable],
) -> None:
    celery = settings.airflow_executor == "celery"
    if workers and not celery:
        raise ConfigError("--workers needs EDP_AIRFLOW_EXECUTOR=celery (the LocalExecutor runs tasks itself)")
    if celery:  # before anything is started: without a broker no task would ever run
        check_broker(settings)
    _start_warehouse_and_sandbox(settings, echo, result, started)
    echo("airflow: metadata database (migrate)")
    migrate(settings)
    # The mark lets `down` find every process of these services (AIRFLOW_HOME would not do: an operator's
    # shell may carry it).
    env = airflow_env(settings) | {SERVICE_MARK: str(settings.home)}
    # The API server first: tasks report to its execution API from their first second, and a task the
    # scheduler starts before it answers fails its first try.
    api = airflow_process(settings, "api-server")
    if _start(api, _component_argv(settings, "api-server"), env, settings.airflow_port, started, result):
        echo("airflow: api-server started")
    _wait("airflow api-server", lambda: airflow_health(settings).get("api-server") == "healthy", api, timeout)
    for component in AIRFLOW_COMPONENTS[1:]:
        if _start(
            airflow_process(settings, component), _component_argv(settings, component), env, None, started, result
        ):
            echo(f"airflow: {component} started")
    if celery:
        _start_workers(settings, env, workers or 1, timeout, echo, result, started)
    docs = docs_process(settings)
    docs_argv = [_edp_bin(), "docs", "serve", "--port", str(settings.docs_port)]
    _start(docs, docs_argv, env, settings.docs_port, started, result)
    for component in AIRFLOW_COMPONENTS[1:]:
        process = airflow_process(settings, component)
        _wait(f"airflow {component}", partial(_component_healthy, settings, component), process, timeout)
    _wait("docs server", lambda: _docs_healthy(settings), docs, 60.0)
    result.urls["airflow"] = api_url(settings)
    result.urls["docs"] = f"http://127.0.0.1:{settings.docs_port}/"
    admin_password(settings)
    result.credentials["airflow"] = f"user admin, password in {passwords_file(settings)}"
    if superset:
        _start_superset(settings, echo, result)


def _start_superset(settings: Settings, echo: Callable[[str], None], result: UpResult) -> None:
    from edp.serve.superset import provision

    echo("superset: starting and provisioning dashboards")
    was_running = _superset_running(settings)
    provision(settings)
    if not was_running:
        result.started.append("superset")
    else:
        result.already_running.append("superset")
    from edp.serve.superset.paths import base_url

    result.urls["superset"] = base_url(settings)
    secret = settings.home_dir / "secrets" / "superset_admin_password"
    result.credentials["superset"] = f"user admin, password in {secret}"


def _superset_running(settings: Settings) -> bool:
    from edp.serve.superset.server import _read_pidfile

    return _read_pidfile(settings) is not None


def broker_host(settings: Settings) -> str:
    """The broker's address without its credentials, for messages."""
    return settings.celery_broker_url.get_secret_value().split("@")[-1].split("://")[-1]


def check_broker(settings: Settings) -> None:
    """Celery's broker must answer before workers are started (a worker would retry forever, silently)."""
    from kombu import Connection  # type: ignore[import-untyped]

    url = settings.celery_broker_url.get_secret_value()
    try:
        with Connection(url, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # kombu raises the transport's own errors
        first = (str(exc).splitlines() or [""])[0][:200]
        raise ServiceFailed(
            f"celery broker {broker_host(settings)}: unreachable ({type(exc).__name__}: {first}); "
            "start it or set EDP_CELERY_BROKER_URL"
        ) from None


def workers_answering(settings: Settings, nodes: list[str], timeout: float = 1.0) -> set[str]:
    """Which of the Celery workers ``nodes`` answer a ping through the broker now."""
    from celery import Celery

    app = Celery("edp-ping", broker=settings.celery_broker_url.get_secret_value(), set_as_current=False)
    try:
        replies = app.control.ping(destination=nodes, timeout=timeout)
    except Exception:  # the broker's own errors: nobody answered
        return set()
    finally:
        app.close()
    return {name for reply in replies for name in reply}


def down(settings: Settings, *, keep_warehouse: bool = False) -> list[str]:
    """Stop every service of this home, the last started first; what was stopped."""
    stopped: list[str] = []
    folder = services_dir(settings)
    workers = [Background(p.stem, folder) for p in sorted(folder.glob("airflow-celery-worker-*.json"), reverse=True)]
    processes = [
        *workers,
        docs_process(settings),
        *(airflow_process(settings, c) for c in reversed(AIRFLOW_COMPONENTS)),
    ]
    # Taken first: a task in a session of its own outlives its stopped parent otherwise, and once
    # reparented it is no longer found by descent (nor by argv or environ: Airflow retitles it).
    tree = process_tree([pid for p in processes if (pid := p.pid()) is not None])
    for process in processes:
        if process.stop(STOP_TIMEOUT):
            stopped.append(process.name)
    leftovers = sweep(tree)
    if leftovers:
        stopped.append(f"{len(leftovers)} left-over task processes")
    from edp.serve.superset import stop_server

    if stop_server(settings):
        stopped.append("superset")
    from edp.sandbox.control import sandbox_down

    if sandbox_down(settings):
        stopped.append("sandbox")
    if not keep_warehouse:
        from edp.storage.warehouse import is_embedded, stop_embedded

        if is_embedded(settings) and stop_embedded(settings):
            stopped.append("warehouse")
    return stopped


def services_status(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each service: running (a pid of ours), healthy (it answers), where."""
    health = airflow_health(settings)
    status: dict[str, dict[str, Any]] = {}
    for component in AIRFLOW_COMPONENTS:
        pid = airflow_process(settings, component).pid()
        status[f"airflow-{component}"] = {"pid": pid, "health": health.get(component, "unknown") if pid else "stopped"}
    status["airflow-api-server"]["url"] = api_url(settings)
    folder = services_dir(settings)
    workers = {}
    for pidfile in sorted(folder.glob("airflow-celery-worker-*.json")):
        pid = Background(pidfile.stem, folder).pid()
        if pid:
            workers[worker_node(int(pidfile.stem.rsplit("-", 1)[-1]))] = (pidfile.stem, pid)
    answering = workers_answering(settings, list(workers)) if workers else set()
    for node, (name, pid) in workers.items():
        status[name] = {"pid": pid, "node": node, "health": "healthy" if node in answering else "unhealthy"}
    docs_pid = docs_process(settings).pid()
    status["docs"] = {
        "pid": docs_pid,
        "health": ("healthy" if _docs_healthy(settings) else "unhealthy") if docs_pid else "stopped",
        "url": f"http://127.0.0.1:{settings.docs_port}/",
    }
    from edp.serve.superset.paths import base_url
    from edp.serve.superset.server import _healthy, _read_pidfile

    info = _read_pidfile(settings)
    status["superset"] = {
        "pid": info["pid"] if info else None,
        "health": ("healthy" if _healthy(base_url(settings)) else "unhealthy") if info else "stopped",
        "url": base_url(settings),
    }
    from edp.sandbox.control import sandbox_status

    sandbox = sandbox_status(settings)
    status["sandbox"] = {"health": "healthy" if sandbox and sandbox.get("running") else "stopped"}
    return status
