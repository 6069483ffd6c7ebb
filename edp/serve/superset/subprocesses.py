"""Superset's commands, run from its own venv with their output in its log."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from edp.runtime.lifeline import die_with_parent
from edp.serve.superset.errors import SupersetError
from edp.serve.superset.paths import VENV_DIR, superset_paths
from edp.settings import Settings

COMMAND_TIMEOUT = 900.0
LOG_TAIL_LINES = 40


def log_tail(path: Path, start: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return "(no log)"
    with path.open("rb") as fh:
        fh.seek(start)
        text = fh.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "(log empty)"


def run_logged(
    cmd: list[str], log_path: Path, env: Mapping[str, str] | None = None, timeout: float = COMMAND_TIMEOUT
) -> None:
    """Run ``cmd`` with its output appended to ``log_path``; raise with the tail on failure.

    Commands never carry secrets in their arguments (those go through the
    environment), so the command line itself is safe to log.
    """
    what = " ".join([Path(cmd[0]).name, *cmd[1:3]])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n".encode())
        fh.flush()
        start = fh.tell()
        try:
            # start_new_session: no controlling terminal, so no tool can prompt on it.
            proc = subprocess.run(
                cmd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                timeout=timeout,
                check=False,
                start_new_session=True,
                # A command of this CLI, not a server: it dies with it (edp.runtime.lifeline).
                preexec_fn=die_with_parent(),
            )
        except subprocess.TimeoutExpired as exc:
            raise SupersetError(
                f"`{what}` timed out after {timeout:.0f}s; log {log_path}:\n{log_tail(log_path, start)}"
            ) from exc
    if proc.returncode != 0:
        raise SupersetError(f"`{what}` failed (exit {proc.returncode}); log {log_path}:\n{log_tail(log_path, start)}")


def child_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for Superset processes: its venv, its config, none of ours.

    EDP_* variables may hold warehouse/S3 credentials Superset has no business
    seeing, and the platform venv's Python variables would confuse its interpreter.
    """
    paths = superset_paths(settings)
    dropped = ("EDP_", "PYTHON", "VIRTUAL_ENV", "SUPERSET_", "FLASK_", "UV_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        PATH=f"{VENV_DIR / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(VENV_DIR),
        SUPERSET_CONFIG_PATH=str(paths.config),
        SUPERSET_HOME=str(paths.home),
        FLASK_APP="superset.app:create_app()",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def run_superset(settings: Settings, *args: str, extra_env: Mapping[str, str] | None = None) -> None:
    """``superset <args>`` for this EDP_HOME."""
    binary = VENV_DIR / "bin" / "superset"
    run_logged([str(binary), *args], superset_paths(settings).log, child_env(settings, extra_env))
