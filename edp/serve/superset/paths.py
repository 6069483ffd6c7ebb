"""Where Superset lives: its directory in the repo, its files per EDP_HOME, its URL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edp.settings import REPO_ROOT, Settings

SUPERSET_DIR = REPO_ROOT / "infra" / "superset"
VENV_DIR = SUPERSET_DIR / ".venv"
REQUIREMENTS = SUPERSET_DIR / "requirements.txt"
ASSETS_DIR = SUPERSET_DIR / "assets"


@dataclass(frozen=True)
class SupersetPaths:
    """Everything Superset keeps for one EDP_HOME (never in git)."""

    home: Path
    config: Path
    metadata_db: Path
    log: Path
    pidfile: Path
    init_stamp: Path


def superset_paths(settings: Settings) -> SupersetPaths:
    home = settings.home_dir / "superset"
    # Private: the metadata DB holds the admin's password hash and encrypted DB passwords.
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return SupersetPaths(
        home=home,
        config=home / "superset_config.py",
        metadata_db=home / "superset.db",
        log=home / "superset.log",
        pidfile=home / "superset.pid",
        init_stamp=home / ".initialized",
    )


def base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.superset_port}"
