"""`edp sandbox up/down/status`: the stand-ins with the platform's own credentials.

The sandbox is given the same generated secrets the connectors and the sync
use, so the embedded default works with no configuration at all.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from edp.secrets import source_credential
from edp.settings import Settings
from edp.warehouse import Conn, connection_info


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


def sandbox_up(settings: Settings, seed: int | None = None, scale: float | None = None) -> dict[str, Any]:
    from sandbox import control
    from sandbox.departments import ENV_DEPARTMENTS

    exchange = exchange_config_for_sandbox(settings)
    # Department credentials reach the sandbox process by environment, never argv.
    os.environ[ENV_DEPARTMENTS] = json.dumps(departments(settings))
    return control.up(
        settings.home_dir,
        seed=settings.sandbox_seed if seed is None else seed,
        scale=settings.sandbox_scale if scale is None else scale,
        weather_api_key=source_credential(settings, "weather", "api_key"),
        anshan_app_key=exchange[0],
        anshan_app_secret=exchange[1],
    )


def exchange_config_for_sandbox(settings: Settings) -> tuple[str, str]:
    # exchange_config() needs a URL; the sandbox is about to provide it.
    from edp.secrets import resolve_secret

    key = settings.anshan_app_key.get_secret_value() if settings.anshan_app_key else None
    secret = settings.anshan_app_secret.get_secret_value() if settings.anshan_app_secret else None
    return resolve_secret(settings, "anshan_app_key", key), resolve_secret(settings, "anshan_app_secret", secret)


def sandbox_down(settings: Settings) -> bool:
    from sandbox import control

    return bool(control.down(settings.home_dir))


def sandbox_status(settings: Settings) -> dict[str, Any] | None:
    from sandbox import control

    return control.status(settings.home_dir)

