"""Where the sandbox stand-ins listen, for configuration entries saying ``sandbox``."""

from __future__ import annotations

import json
from pathlib import Path

from edp.errors import ConfigError
from edp.settings import Settings

SANDBOX = "sandbox"


def sandbox_info_path(settings: Settings) -> Path:
    return settings.home_dir / "sandbox" / "sandbox.json"


def sandbox_url(settings: Settings, service: str) -> str:
    path = sandbox_info_path(settings)
    if not path.exists():
        raise ConfigError(
            f"{service} is configured as 'sandbox' but no sandbox runs for EDP_HOME={settings.home}: "
            "start it with `edp sandbox up`, or set the real URL"
        )
    info = json.loads(path.read_text(encoding="utf-8"))
    return str(info[f"{service}_url"])
