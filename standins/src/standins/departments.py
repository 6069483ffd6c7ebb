"""The department stand-ins beyond weather and Anshan, started by ``serve``.

Which ones run and with what credentials comes from one JSON object in the
environment variable ``EDP_SANDBOX_DEPARTMENTS`` (never the command line):

    {"transport": {"client_id": "...", "client_secret": "..."},
     "natural_resources": {},
     "police": {},
     "bureau": {},
     "water": {"server_url": "postgresql://...", "reader_user": "...", "reader_password": "..."}}

HTTP stand-ins run as servers in this process; file and database stand-ins are
filled once (the department's export job, the department's database) and
their location is published in ``sandbox.json`` as ``<name>_url``.

``days`` (``serve --days``) is the history each dated series holds at least:
the water database and the police drop hold ``days`` days (3 at the least),
transport's waybills and road events ``max(days, 14)`` and ``max(days, 60)``.
The police drop is kept between starts unless it was written for another
seed, scale or length (``police_drop.json`` beside it says which).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ENV_DEPARTMENTS = "EDP_SANDBOX_DEPARTMENTS"
log = logging.getLogger(__name__)


def departments_from_env() -> dict[str, dict[str, Any]]:
    raw = os.environ.get(ENV_DEPARTMENTS)
    return json.loads(raw) if raw else {}


def start_departments(
    directory: Path,
    config: dict[str, dict[str, Any]],
    *,
    seed: int,
    scale: float,
    host: str,
    days: int = 3,
    storm_start: datetime | None = None,
    storm: str = "season",
) -> tuple[dict[str, str], list[Callable[[], None]]]:
    """Start or fill each configured stand-in; return their URLs and stop functions.

    ``storm_start`` and ``storm`` ("season" or "summer") are the shared storm the weather stand-in sees too.
    """
    from standins.server import run_in_thread

    urls: dict[str, str] = {}
    stops: list[Callable[[], None]] = []

    def serve_app(name: str, app: Any) -> None:
        server = run_in_thread(app, host, 0, log_level="info")
        stops.append(server.stop)
        urls[f"{name}_url"] = server.url

    if "transport" in config:
        from standins.transport import create_app as create_transport

        cfg = config["transport"]
        app = create_transport(
            client_id=cfg["client_id"], client_secret=cfg["client_secret"], seed=seed, scale=scale, history_days=days
        )
        serve_app("transport", app)
    if "natural_resources" in config:
        from standins.natural_resources import create_app as create_wfs

        serve_app("natural_resources", create_wfs(seed=seed, scale=scale))
    if "police" in config:
        urls["police_url"] = str(_police_drop(directory, seed=seed, scale=scale, days=days))
    if "bureau" in config:
        from standins.bureau import populate as populate_bureau

        inbox = directory / "bureau_inbox"
        if not any(inbox.glob("*.xlsx")):
            populate_bureau(inbox, seed=seed, scale=scale)
        urls["bureau_url"] = str(inbox)
    if "water" in config:
        from standins.water import provision

        cfg = config["water"]
        info = provision(
            cfg["server_url"],
            database=cfg.get("database", "haicheng_sl323"),
            seed=seed,
            scale=scale,
            days=max(days, 3),
            storm_start=storm_start,
            storm=storm,
            reader=(cfg["reader_user"], cfg["reader_password"]) if cfg.get("reader_user") else None,
            progress=_progress,
        )
        urls["water_url"] = info["url"]
    return urls, stops


def _progress(message: str) -> None:
    # To the sandbox's log, which `edp sandbox up` watches while a long history is written.
    print(message, flush=True)


def _police_drop(directory: Path, *, seed: int, scale: float, days: int) -> Path:
    """The drop folder, (re)filled unless it already holds the exports of these settings."""
    from standins.police import populate as populate_police

    drop = directory / "police_drop"
    marker = directory / "police_drop.json"
    wanted = {"seed": seed, "scale": float(scale), "days": max(days, 3)}
    try:
        written = json.loads(marker.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        # A drop from before the marker existed was written with the demo's length.
        written = {"seed": seed, "scale": float(scale), "days": 3} if any(drop.glob("*.ok")) else None
    if written != wanted:
        if drop.is_dir():
            for path in drop.iterdir():
                if path.is_file():
                    path.unlink()
        populate_police(drop, seed=seed, scale=scale, days=wanted["days"], progress=_progress)
        _progress(f"police: {wanted['days']} days of exports in {drop}")
    marker.write_text(json.dumps(wanted), encoding="utf-8")
    return drop
