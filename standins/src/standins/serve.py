"""Run the stand-ins in the foreground (``python -m standins serve``) until SIGTERM.

The platform's ``edp sandbox up`` starts this as a background process
(``edp/sandbox/control.py``) and waits for the state file it writes; that file
and the process are the whole contract between the two:

    sandbox/sandbox.json   {"pid", "weather_url", "anshan_url", "<dept>_url", "seed", "scale", "days", ...}
    sandbox/sandbox.log    the process's output
    sandbox/anshan/        the exchange stand-in's SQLite state

``days`` is the history length: every dated series holds at least that many
days before now (the demo lengths are the minimum: 3 days of water and police
data, 14 of waybills, 60 of road events). Filling a long history takes a
while (a year of water data: minutes); progress lines go to the log, which the
launcher watches, and ``sandbox.json`` is written only once everything is ready.

Credentials arrive in the environment (never the command line, which other users
can read in ``ps``) and are not written to ``sandbox.json``; the launcher's
fingerprint of them is (``EDP_SANDBOX_FINGERPRINT``), so it can tell whether a
running sandbox was started with the same credentials.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from standins.common.storm import default_storm_start

STATE_FILE = "sandbox.json"
LOG_FILE = "sandbox.log"
ENV_WEATHER_API_KEY = "EDP_SANDBOX_WEATHER_API_KEY"
ENV_ANSHAN_APP_KEY = "EDP_SANDBOX_ANSHAN_APP_KEY"
ENV_ANSHAN_APP_SECRET = "EDP_SANDBOX_ANSHAN_APP_SECRET"
ENV_FINGERPRINT = "EDP_SANDBOX_FINGERPRINT"
DEMO_DAYS = 3


def sandbox_dir(home: Path | str) -> Path:
    return Path(home) / "sandbox"


def state_file(home: Path | str) -> Path:
    return sandbox_dir(home) / STATE_FILE


def log_file(home: Path | str) -> Path:
    return sandbox_dir(home) / LOG_FILE


def serve(
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
    storm: str = "season",
) -> None:
    """Run both stand-ins in this process until SIGTERM or SIGINT.

    ``storm`` is the shared storm's character (:func:`standins.common.storm.storm_episode`): "season"
    follows the month (snow in winter), "summer" forces the rainstorm whatever the date.
    """
    from standins.anshan import create_app as create_anshan
    from standins.server import run_in_thread
    from standins.weather import create_app as create_weather

    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    directory = sandbox_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # One storm for every stand-in (standins.common.storm): the weather observations, its warning
    # feed (cap_start="storm") and the water bureau's gauges, rivers and reservoirs.
    storm_start = default_storm_start(datetime.now(UTC))
    weather = run_in_thread(
        create_weather(
            api_key=weather_api_key, seed=seed, scale=scale, cap_start="storm", storm_start=storm_start, storm=storm
        ),
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
    from standins.departments import departments_from_env, start_departments

    stops: list[Any] = []
    try:
        department_urls, stops = start_departments(
            directory,
            departments_from_env(),
            seed=seed,
            scale=scale,
            days=days,
            host=host,
            storm_start=storm_start,
            storm=storm,
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
                "days": days,
                "storm": storm,
                "fingerprint": os.environ.get(ENV_FINGERPRINT, ""),
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
