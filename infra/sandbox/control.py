"""Start, stop and inspect a background sandbox (both stand-ins in one process).

Layout under ``home``::

    sandbox/sandbox.json   {"pid", "weather_url", "anshan_url", "seed", "scale", ...}
    sandbox/sandbox.log    the background process's output
    sandbox/anshan/        the exchange stand-in's SQLite state

Credentials reach the background process through its environment, never its
command line (which other users can read in ``ps``), and are not written to
``sandbox.json``; only a fingerprint is, so ``up`` can tell whether a running
sandbox was started with the same credentials.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

STATE_FILE = "sandbox.json"
LOG_FILE = "sandbox.log"
ENV_WEATHER_API_KEY = "EDP_SANDBOX_WEATHER_API_KEY"
ENV_ANSHAN_APP_KEY = "EDP_SANDBOX_ANSHAN_APP_KEY"
ENV_ANSHAN_APP_SECRET = "EDP_SANDBOX_ANSHAN_APP_SECRET"
_PACKAGE_PARENT = Path(__file__).resolve().parent.parent


class SandboxError(RuntimeError):
    pass


def sandbox_dir(home: Path | str) -> Path:
    return Path(home) / "sandbox"


def state_file(home: Path | str) -> Path:
    return sandbox_dir(home) / STATE_FILE


def log_file(home: Path | str) -> Path:
    return sandbox_dir(home) / LOG_FILE


def up(
    home: Path | str,
    *,
    weather_api_key: str,
    anshan_app_key: str,
    anshan_app_secret: str,
    seed: int = 42,
    scale: float = 1.0,
    weather_port: int = 0,
    anshan_port: int = 0,
    host: str = "127.0.0.1",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Start the sandbox in the background, or return the one already running.

    Raises :class:`SandboxError` if a running sandbox has a different seed,
    scale, port or credentials (run :func:`down` first), or if startup fails.
    """
    current = status(home)
    if current is not None and current["running"]:
        wanted = {
            "seed": seed,
            "scale": float(scale),
            "fingerprint": _fingerprint(weather_api_key, anshan_app_key, anshan_app_secret),
        }
        _check_same(current, wanted, weather_port, anshan_port)
        return _read_info(home) or current
    if current is not None:
        # Recorded but not answering: stop it if it is still our (hung) process.
        down(home)
    return start_background(
        home,
        weather_api_key=weather_api_key,
        anshan_app_key=anshan_app_key,
        anshan_app_secret=anshan_app_secret,
        seed=seed,
        scale=scale,
        weather_port=weather_port,
        anshan_port=anshan_port,
        host=host,
        timeout=timeout,
    )


def down(home: Path | str, timeout: float = 10.0) -> bool:
    """Stop the recorded sandbox (SIGTERM, then SIGKILL) and forget it.

    Returns whether a running sandbox was stopped; safe when none runs.
    """
    info = _read_info(home)
    if info is None:
        return False
    pid = int(info["pid"])
    stopped = False
    if _pid_alive(pid) and _is_sandbox_process(info):
        _terminate(pid, timeout)
        stopped = True
    state_file(home).unlink(missing_ok=True)
    return stopped


def status(home: Path | str) -> dict[str, Any] | None:
    """``None`` if no sandbox is recorded, else its info plus ``running`` (bool)."""
    info = _read_info(home)
    if info is None:
        return None
    running = _pid_alive(int(info["pid"])) and _answers(info)
    return {**info, "running": running}


def start_background(
    home: Path | str,
    *,
    weather_api_key: str,
    anshan_app_key: str,
    anshan_app_secret: str,
    seed: int = 42,
    scale: float = 1.0,
    weather_port: int = 0,
    anshan_port: int = 0,
    host: str = "127.0.0.1",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Launch ``python -m sandbox serve`` detached and wait for its ``sandbox.json``."""
    directory = sandbox_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    log_path = log_file(home)
    env = dict(os.environ)
    env[ENV_WEATHER_API_KEY] = weather_api_key
    env[ENV_ANSHAN_APP_KEY] = anshan_app_key
    env[ENV_ANSHAN_APP_SECRET] = anshan_app_secret
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PACKAGE_PARENT), env.get("PYTHONPATH")) if p)
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "serve",
        "--home",
        str(Path(home).resolve()),
        "--seed",
        str(seed),
        "--scale",
        str(scale),
        "--weather-port",
        str(weather_port),
        "--anshan-port",
        str(anshan_port),
        "--host",
        host,
    ]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = _read_info(home)
        if info is not None and info.get("pid") == process.pid:
            return info
        code = process.poll()
        if code is not None:
            raise SandboxError(f"sandbox exited with code {code} during startup; see {log_path}")
        time.sleep(0.05)
    _terminate(process.pid, 5.0)
    raise SandboxError(f"sandbox did not start within {timeout:.0f} s; see {log_path}")


def serve(
    home: Path | str,
    *,
    weather_api_key: str,
    anshan_app_key: str,
    anshan_app_secret: str,
    seed: int = 42,
    scale: float = 1.0,
    weather_port: int = 0,
    anshan_port: int = 0,
    host: str = "127.0.0.1",
) -> None:
    """Run both stand-ins in this process until SIGTERM or SIGINT."""
    from sandbox.anshan import create_app as create_anshan
    from sandbox.server import run_in_thread
    from sandbox.weather import create_app as create_weather

    directory = sandbox_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # cap_start="storm": the warning feed starts with the storm the observations show.
    weather = run_in_thread(
        create_weather(api_key=weather_api_key, seed=seed, scale=scale, cap_start="storm"),
        host,
        weather_port,
        log_level="info",
    )
    try:
        anshan = run_in_thread(
            create_anshan(
                app_key=anshan_app_key, app_secret=anshan_app_secret, state_dir=directory / "anshan", seed=seed
            ),
            host,
            anshan_port,
            log_level="info",
        )
    except BaseException:
        weather.stop()
        raise
    from sandbox.departments import departments_from_env, start_departments

    stops: list[Any] = []
    try:
        department_urls, stops = start_departments(
            directory, departments_from_env(), seed=seed, scale=scale, host=host
        )
        _write_info(
            home,
            {
                "pid": os.getpid(),
                "weather_url": weather.url,
                "anshan_url": anshan.url,
                **department_urls,
                "seed": seed,
                "scale": float(scale),
                "fingerprint": _fingerprint(weather_api_key, anshan_app_key, anshan_app_secret),
                "state_dir": str(directory / "anshan"),
                "log_file": str(log_file(home)),
            },
        )
        print(f"sandbox up: weather {weather.url}, anshan {anshan.url}", flush=True)
        stop.wait()
    finally:
        for stop_department in stops:
            stop_department()
        anshan.stop()
        weather.stop()
        info = _read_info(home)
        if info is not None and info.get("pid") == os.getpid():
            state_file(home).unlink(missing_ok=True)
        print("sandbox down", flush=True)


def _fingerprint(*credentials: str) -> str:
    return hashlib.sha256("\0".join(credentials).encode("utf-8")).hexdigest()[:16]


def _check_same(current: dict[str, Any], wanted: dict[str, Any], weather_port: int, anshan_port: int) -> None:
    differences = [
        "credentials" if name == "fingerprint" else name for name, value in wanted.items() if current.get(name) != value
    ]
    for name, port in (("weather_url", weather_port), ("anshan_url", anshan_port)):
        if port and not str(current.get(name, "")).endswith(f":{port}"):
            differences.append(name)
    if differences:
        raise SandboxError(
            f"a sandbox is already running (pid {current['pid']}) with a different "
            f"{', '.join(differences)}; stop it first (down)"
        )


def _read_info(home: Path | str) -> dict[str, Any] | None:
    try:
        info = json.loads(state_file(home).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return info if isinstance(info, dict) and "pid" in info else None


def _write_info(home: Path | str, info: dict[str, Any]) -> None:
    # Written whole and renamed, so the launcher never reads half a file.
    target = state_file(home)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(info, indent=2), encoding="utf-8")
    temporary.chmod(0o600)
    os.replace(temporary, target)


def _pid_alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError, OSError):
        # Reap it if it is our own exited child, or a zombie would look alive.
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(info: dict[str, Any]) -> bool:
    """Both URLs answer their health check and report the recorded pid."""
    try:
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            for name in ("weather_url", "anshan_url"):
                reply = client.get(f"{info[name]}/__admin/health")
                if reply.status_code != 200 or reply.json().get("pid") != info["pid"]:
                    return False
    except (httpx.HTTPError, KeyError, ValueError):
        return False
    return True


def _is_sandbox_process(info: dict[str, Any]) -> bool:
    # Never signal a pid that was recycled by an unrelated process.
    if _answers(info):
        return True
    try:
        cmdline = Path(f"/proc/{info['pid']}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"sandbox" in cmdline and b"serve" in cmdline


def _terminate(pid: int, timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and _pid_alive(pid):
        time.sleep(0.05)
