"""`edp sandbox up/down/status`: the stand-ins as a background process for this EDP_HOME.

The stand-ins are started as ``python -m standins serve`` (the ``standins``
distribution, installed with the dev dependencies, never imported here) and
answer through the state file they write (``edp.sandbox.link``). They are given
the same generated secrets the connectors and the sync use, so the embedded
default works with no configuration at all. Credentials reach the process by
environment, never argv.

Startup is awaited as long as it makes progress: ``timeout`` is the longest
the process may stay silent (no new line in ``sandbox.log``), not a limit on
the whole start, because filling a long history (``days``, e.g. a year of
water data) takes minutes; with a longer history the silence allowed grows by
``SILENCE_PER_DAY`` a day beyond the demo's three (a year: about 2 minutes),
as single steps (building an index over a year of rows) grow with it. New
log lines are passed on to this module's logger while it waits, so
``edp sandbox up`` shows how far it has got.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from edp.errors import ConfigError, EdpError
from edp.runtime import cmdline, pid_alive, terminate
from edp.secrets import resolve_secret, source_credential
from edp.settings import Settings
from edp.storage.warehouse import Conn, connection_info

STANDINS = "standins"
ENV_WEATHER_API_KEY = "EDP_SANDBOX_WEATHER_API_KEY"
ENV_ANSHAN_APP_KEY = "EDP_SANDBOX_ANSHAN_APP_KEY"
ENV_ANSHAN_APP_SECRET = "EDP_SANDBOX_ANSHAN_APP_SECRET"
ENV_FINGERPRINT = "EDP_SANDBOX_FINGERPRINT"
ENV_DEPARTMENTS = "EDP_SANDBOX_DEPARTMENTS"
DEMO_DAYS = 3
SILENCE_PER_DAY = 0.25  # seconds of silence allowed during startup, per day of history beyond the demo's

log = logging.getLogger(__name__)


class SandboxError(EdpError):
    """The stand-ins could not be started or a different sandbox runs."""


def state_file(home: Path | str) -> Path:
    return Path(home) / "sandbox" / "sandbox.json"


def log_file(home: Path | str) -> Path:
    return Path(home) / "sandbox" / "sandbox.log"


def departments(settings: Settings) -> dict[str, dict[str, Any]]:
    """What the department stand-ins need: only sources configured as ``sandbox``."""
    wanted = {name for name, cfg in settings.sources().items() if cfg.url == "sandbox"}
    config: dict[str, dict[str, Any]] = {}
    if "transport" in wanted:
        config["transport"] = {
            "client_id": source_credential(settings, "transport", "client_id"),
            "client_secret": source_credential(settings, "transport", "client_secret"),
        }
    for name in ("natural_resources", "police", "bureau"):
        if name in wanted:
            config[name] = {}
    if "water" in wanted:
        # The bureau's SL 323 database lives on the warehouse's server, in its own database.
        conn = connection_info(settings)
        server = Conn(conn.host, conn.port, conn.user, conn.password, "postgres")
        # Named per EDP_HOME: two sandboxes on one server must not drop each other's database.
        suffix = hashlib.sha256(str(settings.home.resolve()).encode()).hexdigest()[:8]
        config["water"] = {
            "server_url": server.sqlalchemy_url().render_as_string(hide_password=False),
            "database": f"haicheng_sl323_{suffix}",
            "reader_user": f"sl323_reader_{suffix}",
            "reader_password": source_credential(settings, "water", "password"),
        }
    return config


def exchange_credentials(settings: Settings) -> tuple[str, str]:
    # exchange_config() needs a URL; the sandbox is about to provide it.
    key = settings.anshan_app_key.get_secret_value() if settings.anshan_app_key else None
    secret = settings.anshan_app_secret.get_secret_value() if settings.anshan_app_secret else None
    return resolve_secret(settings, "anshan_app_key", key), resolve_secret(settings, "anshan_app_secret", secret)


def sandbox_up(
    settings: Settings,
    seed: int | None = None,
    scale: float | None = None,
    days: int | None = None,
    storm: str | None = None,
) -> dict[str, Any]:
    key, secret = exchange_credentials(settings)
    return up(
        settings.home_dir,
        seed=settings.sandbox_seed if seed is None else seed,
        scale=settings.sandbox_scale if scale is None else scale,
        days=settings.sandbox_days if days is None else days,
        weather_api_key=source_credential(settings, "weather", "api_key"),
        anshan_app_key=key,
        anshan_app_secret=secret,
        departments=departments(settings),
        storm=settings.sandbox_storm if storm is None else storm,
    )


def sandbox_down(settings: Settings) -> bool:
    return down(settings.home_dir)


def sandbox_status(settings: Settings) -> dict[str, Any] | None:
    return status(settings.home_dir)


def up(
    home: Path | str,
    *,
    weather_api_key: str,
    anshan_app_key: str,
    anshan_app_secret: str,
    seed: int = 42,
    scale: float = 1.0,
    days: int = DEMO_DAYS,
    weather_port: int = 0,
    anshan_port: int = 0,
    host: str = "127.0.0.1",
    departments: dict[str, dict[str, Any]] | None = None,
    timeout: float = 30.0,
    storm: str | None = None,
) -> dict[str, Any]:
    """Start the stand-ins in the background, or return the ones already running.

    ``storm`` is the shared storm of the weather and water stand-ins: "season" (snow in a winter month)
    or "summer" (the rainstorm whatever the date); ``None`` leaves it to ``EDP_SANDBOX_STORM`` (default
    "season"). A running sandbox is returned as it is.

    Raises :class:`SandboxError` if a running sandbox has a different seed,
    scale, days, port or credentials (run :func:`down` first), or if startup
    fails or stays silent for ``timeout`` seconds.
    """
    if days < 1:
        raise ConfigError(f"the sandbox's history must be at least 1 day, not {days}")
    fingerprint = _fingerprint(weather_api_key, anshan_app_key, anshan_app_secret)
    current = status(home)
    if current is not None and current["running"]:
        wanted = {"seed": seed, "scale": float(scale), "days": days, "fingerprint": fingerprint}
        # A sandbox started before "days" was recorded holds the demo's length.
        _check_same({"days": DEMO_DAYS, **current}, wanted, weather_port, anshan_port)
        return _read_info(home) or current
    if current is not None:
        down(home)  # recorded but not answering: stop it if it is still our (hung) process
    if importlib.util.find_spec(STANDINS) is None:
        raise ConfigError(
            "the stand-ins are not installed in this environment (they ship with the development "
            "dependencies: `make install`); configure the real sources instead of 'sandbox'"
        )
    env = {
        **os.environ,
        ENV_WEATHER_API_KEY: weather_api_key,
        ENV_ANSHAN_APP_KEY: anshan_app_key,
        ENV_ANSHAN_APP_SECRET: anshan_app_secret,
        ENV_FINGERPRINT: fingerprint,
        ENV_DEPARTMENTS: json.dumps(departments or {}),
    }
    command = [sys.executable, "-m", STANDINS, "serve", "--home", str(Path(home).resolve())]
    command += ["--seed", str(seed), "--scale", str(scale), "--days", str(days), "--host", host]
    command += ["--weather-port", str(weather_port), "--anshan-port", str(anshan_port)]
    if storm is not None:
        command += ["--storm", storm]
    log_path = log_file(home)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as output:
        start = output.tell()
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return _await_start(home, process, log_path, start, timeout + SILENCE_PER_DAY * max(0, days - DEMO_DAYS))


def _await_start(
    home: Path | str, process: subprocess.Popen[bytes], log_path: Path, offset: int, timeout: float
) -> dict[str, Any]:
    """Wait for the state file while the process lives and its log keeps growing within ``timeout``."""
    began = time.monotonic()
    deadline = began + timeout
    while time.monotonic() < deadline:
        info = _read_info(home)
        if info is not None and info.get("pid") == process.pid:
            return info
        code = process.poll()
        if code is not None:
            raise SandboxError(f"sandbox exited with code {code} during startup; see {log_path}")
        lines, offset = _new_lines(log_path, offset)
        if lines:
            deadline = time.monotonic() + timeout  # progress: the silence limit starts again
            for line in lines:
                log.info("sandbox (%.0f s): %s", time.monotonic() - began, line)
        time.sleep(0.05)
    terminate(process.pid, 5.0)
    raise SandboxError(
        f"sandbox did not start: no progress for {timeout:.0f} s "
        f"({time.monotonic() - began:.0f} s since it was started); see {log_path}"
    )


def _new_lines(path: Path, offset: int) -> tuple[list[str], int]:
    """Complete lines appended to ``path`` after ``offset``, and the offset after them."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            chunk = fh.read(1 << 16)
    except OSError:
        return [], offset
    end = chunk.rfind(b"\n") + 1
    if end == 0:
        return [], offset
    text = chunk[:end].decode("utf-8", errors="replace")
    return [line for line in text.splitlines() if line.strip()], offset + end


def down(home: Path | str, timeout: float = 10.0) -> bool:
    """Stop the recorded sandbox (SIGTERM, then SIGKILL) and forget it.

    Returns whether a running sandbox was stopped; safe when none runs.
    """
    info = _read_info(home)
    if info is None:
        return False
    pid = int(info["pid"])
    stopped = False
    if pid_alive(pid) and _is_sandbox_process(info):
        terminate(pid, timeout)
        stopped = True
    state_file(home).unlink(missing_ok=True)
    return stopped


def status(home: Path | str) -> dict[str, Any] | None:
    """``None`` if no sandbox is recorded, else its info plus ``running`` (bool)."""
    info = _read_info(home)
    if info is None:
        return None
    running = pid_alive(int(info["pid"])) and _answers(info)
    return {**info, "running": running}


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
            f"{', '.join(differences)}; stop it first (edp sandbox down)"
        )


def _read_info(home: Path | str) -> dict[str, Any] | None:
    try:
        info = json.loads(state_file(home).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return info if isinstance(info, dict) and "pid" in info else None


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
    argv = cmdline(int(info["pid"]))
    return STANDINS.encode() in argv and b"serve" in argv
