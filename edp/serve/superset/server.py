"""Step 6: Superset's web server (gunicorn) for this EDP_HOME, started in its own session."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from edp.runtime import cmdline, pid_alive, port_in_use, terminate
from edp.serve.superset.config import write_config
from edp.serve.superset.environment import ensure_environment
from edp.serve.superset.errors import SupersetError
from edp.serve.superset.paths import VENV_DIR, base_url, superset_paths
from edp.serve.superset.subprocesses import child_env, log_tail
from edp.settings import Settings

SERVER_START_TIMEOUT = 240.0
SERVER_STOP_TIMEOUT = 30.0


def _read_pidfile(settings: Settings) -> dict[str, Any] | None:
    path = superset_paths(settings).pidfile
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    argv = cmdline(pid)
    # Guard against pid reuse: the process must still be our gunicorn.
    if not pid_alive(pid) or (argv and not any(b"superset.app" in arg for arg in argv)):
        path.unlink(missing_ok=True)
        return None
    return info


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_healthy(url: str, pid: int, log_path: Path, log_start: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _healthy(url):
            return
        if not pid_alive(pid):
            raise SupersetError(f"Superset exited during start-up; log {log_path}:\n{log_tail(log_path, log_start)}")
        time.sleep(0.5)
    raise SupersetError(
        f"Superset did not answer {url}/health within {timeout:.0f}s; log {log_path}:\n{log_tail(log_path, log_start)}"
    )


def _server_command(port: int) -> list[str]:
    # gunicorn with threads, as Superset's own images run it; the dev server is not for services.
    return [
        str(VENV_DIR / "bin" / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "8",
        "--timeout",
        "120",
        "--graceful-timeout",
        "10",
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        "superset.app:create_app()",
    ]


def start_server(settings: Settings, timeout: float = SERVER_START_TIMEOUT) -> str:
    """Start Superset's web server for this EDP_HOME, or reuse the running one; return its URL."""
    url = base_url(settings)
    paths = superset_paths(settings)
    running = _read_pidfile(settings)
    if running and running.get("port") == settings.superset_port:
        # Ours: healthy, or still starting (another process launched it).
        _wait_healthy(url, int(running["pid"]), paths.log, 0, timeout)
        return url
    if running:
        stop_server(settings)  # ours, but on a port we no longer use
    if port_in_use(settings.superset_port):
        raise SupersetError(
            f"port {settings.superset_port} is taken by a process not started for {settings.home}; "
            "stop it or set EDP_SUPERSET_PORT"
        )
    ensure_environment(settings)
    write_config(settings)
    with paths.log.open("ab") as fh:
        fh.write(f"\n$ gunicorn superset on 127.0.0.1:{settings.superset_port}\n".encode())
        log_start = fh.tell()
        # Own session: the server outlives this process and is stopped as a group.
        proc = subprocess.Popen(
            _server_command(settings.superset_port),
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=child_env(settings),
            cwd=paths.home,
            start_new_session=True,
        )
    paths.pidfile.write_text(json.dumps({"pid": proc.pid, "port": settings.superset_port, "url": url}))
    try:
        _wait_healthy(url, proc.pid, paths.log, log_start, timeout)
    except SupersetError:
        stop_server(settings)
        raise
    return url


def stop_server(settings: Settings, timeout: float = SERVER_STOP_TIMEOUT) -> bool:
    """Stop the server started for this EDP_HOME; returns whether one was running."""
    info = _read_pidfile(settings)
    if info is None:
        return False
    # The group: gunicorn's master and its workers; SIGTERM, then SIGKILL after ``timeout``.
    terminate(int(info["pid"]), timeout, group=True)
    superset_paths(settings).pidfile.unlink(missing_ok=True)
    return True
