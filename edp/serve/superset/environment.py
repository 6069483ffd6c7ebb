"""Step 1: Superset's own venv, built from the pins in infra/superset/requirements.txt."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edp.serve.superset.errors import SupersetError
from edp.serve.superset.paths import REQUIREMENTS, VENV_DIR, superset_paths
from edp.serve.superset.subprocesses import run_logged
from edp.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)


def requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


@contextmanager
def _venv_lock(venv: Path) -> Iterator[None]:
    # Two provisions (two EDP_HOMEs, or tests) must not install into one venv at once.
    name = hashlib.sha256(str(venv.resolve()).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"edp-superset-venv-{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _uv() -> str:
    """uv on PATH, else the one `make` bootstrapped into .tools/."""
    found = shutil.which("uv")
    if found:
        return found
    bootstrapped = REPO_ROOT / ".tools" / "bin" / "uv"
    if bootstrapped.exists():
        return str(bootstrapped)
    raise SupersetError("uv is needed to build Superset's environment: run `make install`")


def ensure_environment(settings: Settings, venv: Path = VENV_DIR) -> Path:
    """Create or update Superset's own venv from the pinned requirements.

    Returns the ``superset`` executable. A stamp of requirements.txt in the venv
    keeps the common case to two stats and a read; when the pins change, the
    venv is brought up to them with ``uv pip install``.
    """
    binary = venv / "bin" / "superset"
    stamp = venv / ".edp-requirements.sha256"
    digest = requirements_digest()
    if binary.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == digest:
        return binary
    log_path = superset_paths(settings).log
    # uv must not pick up the platform's venv from our environment.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    with _venv_lock(venv):
        if not (venv / "bin" / "python").exists():
            log.info("creating the Superset environment in %s (one-off, takes a few minutes)", venv)
            run_logged([_uv(), "venv", "--python", "3.11", "--allow-existing", str(venv)], log_path, env)
        run_logged(
            [_uv(), "pip", "install", "--python", str(venv / "bin" / "python"), "-r", str(REQUIREMENTS)],
            log_path,
            env,
        )
        if not binary.exists():
            raise SupersetError(f"installed {REQUIREMENTS} but {binary} is missing; log {log_path}")
        stamp.write_text(digest, encoding="utf-8")
    return binary
