"""Step 3: Superset's metadata DB and its admin user."""

from __future__ import annotations

import hashlib

from edp.secrets import generated_secret
from edp.serve.superset.environment import requirements_digest
from edp.serve.superset.paths import superset_paths
from edp.serve.superset.subprocesses import run_superset
from edp.settings import Settings

ADMIN_USER = "admin"
ADMIN_SECRET = "superset_admin_password"


def _init_fingerprint(settings: Settings) -> str:
    # Re-run the (slow) init whenever the Superset version or our config changes.
    digest = hashlib.sha256(requirements_digest().encode())
    digest.update(superset_paths(settings).config.read_bytes())
    return digest.hexdigest()


def init_metadata(settings: Settings, force: bool = False) -> bool:
    """``superset db upgrade``, ``fab create-admin``, ``superset init``; skipped when done.

    Returns whether the commands ran.
    """
    paths = superset_paths(settings)
    fingerprint = _init_fingerprint(settings)
    done = paths.init_stamp.exists() and paths.init_stamp.read_text(encoding="utf-8") == fingerprint
    if done and paths.metadata_db.exists() and not force:
        return False
    run_superset(settings, "db", "upgrade")
    # Password through the environment (click's auto envvar), never argv: argv is world-readable.
    run_superset(
        settings,
        "fab",
        "create-admin",
        "--username",
        ADMIN_USER,
        "--firstname",
        "EDP",
        "--lastname",
        "Admin",
        "--email",
        "admin@edp.invalid",
        extra_env={"FLASK_FAB_CREATE_ADMIN_PASSWORD": generated_secret(settings, ADMIN_SECRET)},
    )
    run_superset(settings, "init")
    paths.init_stamp.write_text(fingerprint, encoding="utf-8")
    return True


def reset_admin_password(settings: Settings) -> None:
    """Set the admin password back to the generated secret (e.g. after a secret reset)."""
    run_superset(
        settings,
        "fab",
        "reset-password",
        "--username",
        ADMIN_USER,
        extra_env={"FLASK_FAB_RESET_PASSWORD_PASSWORD": generated_secret(settings, ADMIN_SECRET)},
    )
