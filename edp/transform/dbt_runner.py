"""dbt with the platform's settings: build, docs and source freshness.

dbt runs in a subprocess (the ``dbt`` next to ``sys.executable``): dbt keeps
global state (flags, adapters, caches) that must not leak between Airflow
tasks or CLI commands. Its connection comes from ``EDP_DBT_*`` variables set
here from :func:`edp.storage.warehouse.connection_info`, read by ``dbt/profiles.yml``.
Everything dbt writes (target/, logs/, the streamed output of each command)
goes to ``$EDP_HOME/dbt/``, never into the repository.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edp.errors import ToolFailed
from edp.runtime.lifeline import die_with_parent
from edp.settings import REPO_ROOT, Settings
from edp.storage.sessions import application_name, command_name, dead_client_options, server_version
from edp.storage.warehouse import connection_info

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = REPO_ROOT / "dbt"
TAIL_LINES = 60
# Command outputs kept in $EDP_HOME/dbt/ (an hourly build writes one a run).
KEEP_LOGS = 200
# Result statuses of run_results.json that mean a node did not succeed.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


class DbtError(ToolFailed):
    """A dbt command failed: names the failing nodes and ends with the output's tail."""

    def __init__(self, message: str, result: DbtResult | None = None) -> None:
        super().__init__(message)
        self.result = result

    @property
    def failed_nodes(self) -> list[str]:
        return [n.unique_id for n in self.result.failed] if self.result else []


@dataclass(frozen=True)
class NodeResult:
    """One node of ``run_results.json``."""

    unique_id: str
    status: str
    execution_time: float
    rows_affected: int | None = None
    failures: int | None = None
    message: str | None = None
    timing: dict[str, dict[str, str | None]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.unique_id.split(".")[-1]

    @property
    def resource_type(self) -> str:
        return self.unique_id.split(".", 1)[0]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> NodeResult:
        adapter = raw.get("adapter_response") or {}
        timing = {
            t["name"]: {"started_at": t.get("started_at"), "completed_at": t.get("completed_at")}
            for t in raw.get("timing") or []
        }
        return cls(
            unique_id=raw["unique_id"],
            status=str(raw.get("status")),
            execution_time=float(raw.get("execution_time") or 0.0),
            rows_affected=adapter.get("rows_affected"),
            failures=raw.get("failures"),
            message=raw.get("message"),
            timing=timing,
        )


@dataclass(frozen=True)
class DbtResult:
    """What one dbt command did: exit code, nodes from run_results.json, where its output is."""

    args: list[str]
    returncode: int
    nodes: list[NodeResult]
    elapsed_seconds: float
    log_file: Path
    target_path: Path
    invocation_id: str | None = None

    @property
    def success(self) -> bool:
        return self.returncode == 0 and not self.failed

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in FAILED_STATUSES]

    def node(self, name: str) -> NodeResult:
        """The result of the node called ``name`` (model, seed, test or unique id)."""
        for n in self.nodes:
            if name in (n.unique_id, n.name):
                return n
        raise KeyError(f"no node {name!r} in the results of dbt {' '.join(self.args)}")

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.status] = counts.get(n.status, 0) + 1
        return {
            "command": " ".join(self.args),
            "success": self.success,
            "elapsed_seconds": round(self.elapsed_seconds, 2),
            "statuses": counts,
            "log_file": str(self.log_file),
        }


def dbt_dir(settings: Settings, workspace: str | None = None) -> Path:
    """``$EDP_HOME/dbt``: target/, logs/ and the output of every command.

    A ``workspace`` (``$EDP_HOME/dbt/<workspace>``) has its own target/, logs/ and lock: its commands
    never wait for the everyday build's. The warning lane builds there (:mod:`edp.orchestration.warning_lane`);
    the models both may build at once guard themselves in the warehouse (macro ``lane_model_lock``).
    """
    home = settings.home_subdir("dbt")
    if workspace is None:
        return home
    if not workspace.isidentifier():
        raise ValueError(f"dbt workspace {workspace!r} is not a plain name")
    path = home / workspace
    path.mkdir(parents=True, exist_ok=True)
    return path


def target_path(settings: Settings) -> Path:
    return dbt_dir(settings) / "target"


def dbt_session_env(settings: Settings) -> dict[str, str]:
    """What every dbt process needs, wherever it runs: the connection ``dbt/profiles.yml`` reads
    (``EDP_DBT_*``), the sessions' PostgreSQL settings (``PGOPTIONS``) and no network at runtime.

    The Airflow tasks of single models (:mod:`edp.orchestration.dbt_tasks`) get exactly these; they
    keep their own project copy and target directory.
    """
    conn = connection_info(settings)
    return {
        "EDP_DBT_HOST": conn.host,
        "EDP_DBT_PORT": str(conn.port),
        "EDP_DBT_USER": conn.user,
        "EDP_DBT_PASSWORD": conn.password,
        "EDP_DBT_DBNAME": conn.dbname,
        # No network at runtime: no usage statistics, no version check.
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_VERSION_CHECK": "false",
        "DBT_USE_COLORS": "false",
        # Named after the command that runs dbt, and ended by the server if dbt dies (edp.storage.sessions).
        "EDP_DBT_APPLICATION_NAME": application_name(f"{command_name()}/dbt"),
        "EDP_DBT_KEEPALIVES_IDLE": "0" if conn.is_socket else str(settings.warehouse_keepalive_idle_seconds),
        "PGOPTIONS": " ".join(
            filter(
                None,
                (
                    os.environ.get("PGOPTIONS", ""),
                    dead_client_options(settings, server_version(conn)),
                    settings.dbt_session_options,  # last: the operator's word wins
                ),
            )
        ),
    }


def dbt_env(settings: Settings, workspace: str | None = None) -> dict[str, str]:
    """The variables ``dbt/profiles.yml`` and dbt itself read, from the platform settings."""
    home = dbt_dir(settings, workspace)
    return {
        **dbt_session_env(settings),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "DBT_TARGET_PATH": str(home / "target"),
        "DBT_LOG_PATH": str(home / "logs"),
    }


def manifest_path(settings: Settings) -> Path:
    """``$EDP_HOME/dbt/manifest.json``: the project's nodes and their dependencies, as the DAGs read it.

    A copy of the ``manifest.json`` of the last successful dbt command of :func:`run_dbt` (it always
    holds the whole project, whatever was selected), replaced atomically under the command's lock:
    DAG files are parsed every few seconds and must never read a half-written one, nor the one a
    running command is rewriting in ``target/``. Not created here (DAG files call this at parse
    time, when nothing may be written).
    """
    return settings.home / "dbt" / "manifest.json"


def publish_manifest(settings: Settings, target: Path) -> Path | None:
    """Copy ``target/manifest.json`` to :func:`manifest_path` (atomically); None if dbt wrote none."""
    source = target / "manifest.json"
    if not source.exists():
        return None
    dest = manifest_path(settings)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, dest)
    return dest


def dbt_executable_path() -> Path:
    """Where ``dbt`` is (next to this interpreter); may not exist: see :func:`dbt_executable`."""
    return Path(sys.executable).parent / ("dbt.exe" if os.name == "nt" else "dbt")


def dbt_executable() -> Path:
    exe = dbt_executable_path()
    if not exe.exists():
        raise DbtError(f"dbt is not installed next to {sys.executable} (expected {exe}); run `make install`")
    return exe


@contextmanager
def _lock(settings: Settings, workspace: str | None = None) -> Iterator[None]:
    # One dbt command at a time per EDP_HOME (and workspace): they share target/ (manifest, partial parse).
    with (dbt_dir(settings, workspace) / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_run_results(path: Path) -> tuple[list[NodeResult], str | None]:
    if not path.exists():
        return [], None
    raw = json.loads(path.read_text(encoding="utf-8"))
    nodes = [NodeResult.from_json(r) for r in raw.get("results", [])]
    return nodes, (raw.get("metadata") or {}).get("invocation_id")


def run_dbt(settings: Settings, args: list[str], *, check: bool = True, workspace: str | None = None) -> DbtResult:
    """Run ``dbt <args>`` in a subprocess; raise :class:`DbtError` on failure when ``check``.

    The output is streamed line by line to ``$EDP_HOME/dbt/<command>-<time>.log``
    (``$EDP_HOME/dbt/<workspace>/`` for a workspace, see :func:`dbt_dir`) and to this module's
    logger (so Airflow task logs show it).
    """
    home = dbt_dir(settings, workspace)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    log_file = home / f"{'-'.join(a for a in args[:2] if not a.startswith('-'))}-{stamp}.log"
    # The child needs the process environment (PATH, locale, HOME) plus ours.
    env = {**os.environ, **dbt_env(settings, workspace)}
    cmd = [str(dbt_executable()), *args]
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    with _lock(settings, workspace):
        # Stale results must never be read as this command's.
        for stale in ("run_results.json", "sources.json"):
            (home / "target" / stale).unlink(missing_ok=True)
        started = datetime.now(UTC)
        log.info("dbt %s (output: %s)", " ".join(args), log_file)
        with log_file.open("w", encoding="utf-8") as out:
            proc = subprocess.Popen(
                cmd,
                cwd=DBT_PROJECT_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                # Killed with the command: a rerun must never overlap a dbt still building (edp.runtime.lifeline).
                preexec_fn=die_with_parent(),
            )
            assert proc.stdout is not None
            for line in proc.stdout:
                out.write(line)
                out.flush()
                tail.append(line.rstrip("\n"))
                log.info("dbt: %s", line.rstrip())
            returncode = proc.wait()
        elapsed = (datetime.now(UTC) - started).total_seconds()
        nodes, invocation_id = _read_run_results(home / "target" / "run_results.json")
        if workspace is None and returncode == 0 and _written_since(home / "target" / "manifest.json", started):
            # Every command that loads the project writes all of it; published under the lock, whole.
            publish_manifest(settings, home / "target")
        _prune_logs(home)
    result = DbtResult(list(args), returncode, nodes, elapsed, log_file, home / "target", invocation_id)
    log.info("dbt %s: exit %s in %.1fs", " ".join(args), returncode, elapsed)
    if check and not result.success:
        raise DbtError(_failure_message(result, tail), result)
    return result


def _written_since(path: Path, moment: datetime) -> bool:
    return path.exists() and path.stat().st_mtime >= moment.timestamp() - 1


def _prune_logs(home: Path) -> None:
    logs = sorted(home.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for old in logs[:-KEEP_LOGS]:
        old.unlink(missing_ok=True)


def _describe(node: NodeResult) -> str:
    first_line = (node.message or "").strip().splitlines()[0:1]
    detail = f": {first_line[0][:200]}" if first_line else ""
    return f"{node.unique_id} ({node.status}{detail})"


def _failure_message(result: DbtResult, tail: deque[str]) -> str:
    failed = "; ".join(_describe(n) for n in result.failed) or "none reported"
    return (
        f"dbt {' '.join(result.args)} failed with exit code {result.returncode}; failing nodes: {failed}\n"
        f"--- last {len(tail)} lines of {result.log_file} ---\n" + "\n".join(tail)
    )


def build(
    settings: Settings,
    select: str | None = None,
    *,
    full_refresh: bool = False,
    workspace: str | None = None,
) -> DbtResult:
    """``dbt deps`` (only if the project declares packages) then ``dbt build``: seeds, models, data tests.

    Unit tests are not part of a scheduled build: their inputs are fixtures in the project, so they
    pass or fail with the code, not with the data (dbt's own advice is to run them in development
    and CI only). :func:`unit_tests` runs them; the test suite does.
    """
    if any((DBT_PROJECT_DIR / name).exists() for name in ("packages.yml", "dependencies.yml")):
        run_dbt(settings, ["deps"], workspace=workspace)
    args = ["build", "--exclude-resource-type", "unit_test"]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    return run_dbt(settings, args, workspace=workspace)


def parse(settings: Settings) -> Path:
    """``dbt parse`` (no query runs): writes the manifest the transform DAG's per-model tasks come from.

    Returns :func:`manifest_path`. Every other successful dbt command of :func:`run_dbt` (``edp
    transform``, the transform DAG's docs step) refreshes it too, so a changed project reaches the DAG
    after its next build at the latest.
    """
    started = datetime.now(UTC)
    result = run_dbt(settings, ["parse"])
    if not _written_since(manifest_path(settings), started):
        raise DbtError(f"dbt parse wrote no manifest.json in {result.target_path}", result)
    return manifest_path(settings)


def unit_tests(settings: Settings, select: str | None = None) -> DbtResult:
    """The dbt unit tests (``dbt test --select test_type:unit``); the models they test must exist."""
    selector = "test_type:unit" + (f",{select}" if select else "")
    return run_dbt(settings, ["test", "--select", selector])


def docs_generate(settings: Settings) -> Path:
    """``dbt docs generate``; returns the target dir holding index.html, catalog.json, manifest.json."""
    result = run_dbt(settings, ["docs", "generate"])
    missing = [n for n in ("index.html", "catalog.json", "manifest.json") if not (result.target_path / n).exists()]
    if missing:
        raise DbtError(f"dbt docs generate wrote no {', '.join(missing)} in {result.target_path}", result)
    return result.target_path


def source_freshness(settings: Settings) -> dict[str, Any]:
    """``dbt source freshness``: overall status and, per source table, status, age and newest load.

    Statuses are dbt's: pass, warn, error, or runtime error (e.g. a missing raw
    table). A stale source is a result, not an exception (dbt exits 1 on
    'error' freshness); only a command that wrote no sources.json raises.
    """
    result = run_dbt(settings, ["source", "freshness"], check=False)
    sources_json = result.target_path / "sources.json"
    if not sources_json.exists():
        raise DbtError(
            f"dbt source freshness could not check the sources (exit {result.returncode}); see {result.log_file}",
            result,
        )
    raw = json.loads(sources_json.read_text(encoding="utf-8"))
    tables: dict[str, dict[str, Any]] = {}
    for r in raw.get("results", []):
        name = r["unique_id"].removeprefix("source.haicheng_edp.")
        tables[name] = {
            "status": r.get("status"),
            "max_loaded_at": r.get("max_loaded_at"),
            "snapshotted_at": r.get("snapshotted_at"),
            "age_seconds": r.get("max_loaded_at_time_ago_in_s"),
            "criteria": r.get("criteria"),
        }
    order = ["pass", "warn", "error", "runtime error"]
    worst = max(
        (t["status"] for t in tables.values()), key=lambda s: order.index(s) if s in order else 0, default="pass"
    )
    return {
        "status": worst,
        "sources": tables,
        "elapsed_seconds": round(result.elapsed_seconds, 2),
        "log_file": str(result.log_file),
    }
