"""The platform's one Airflow configuration, and its DAGs run with the real Airflow.

Airflow's files live in ``$EDP_HOME/airflow``, its metadata in PostgreSQL
(``EDP_AIRFLOW_METADATA_URL``, or the database ``<warehouse>_airflow`` on the
warehouse's own server); the DAGs folder is the repository's ``dags/``. Every
setting comes from
:func:`airflow_config`, written to ``$EDP_HOME/airflow/airflow.cfg`` and
passed as ``AIRFLOW__*`` variables, so ``edp airflow <args>``, a plain
``airflow`` with ``AIRFLOW_HOME=$EDP_HOME/airflow``, the demo and the tests
all see the same DAGs and the same database.
"""

from __future__ import annotations

import configparser
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from connectors.registry import SOURCES
from edp.errors import ConfigError, ToolFailed
from edp.orchestration.pools import platform_pools
from edp.runtime.lifeline import die_with_parent
from edp.secrets import generated_secret
from edp.settings import REPO_ROOT, Settings
from edp.storage.warehouse import connection_info

DAG_ORDER = (*SOURCES, "transform", "quality", "sync_anshan")
CFG_HEADER = (
    "# Written by edp from the platform's settings (edp/orchestration/airflow_run.py) on every\n"
    "# `edp airflow` and demo run: change the EDP_* settings, not this file.\n"
)


class AirflowRunError(ToolFailed):
    pass


def airflow_home(settings: Settings) -> Path:
    return settings.home_subdir("airflow")


def metadata_url(settings: Settings) -> URL:
    """Airflow's metadata database, through psycopg 3 (which has the async driver Airflow 3 also needs)."""
    if settings.airflow_metadata_url is not None:
        url = make_url(settings.airflow_metadata_url.get_secret_value())
        return url.set(drivername="postgresql+psycopg")
    conn = connection_info(settings)
    # Beside the warehouse's database, named after it: two platforms on one server keep their own.
    return conn.sqlalchemy_url("psycopg").set(database=f"{conn.dbname}_airflow")


def ensure_metadata_database(settings: Settings) -> None:
    """Create the metadata database on first use (the warehouse's server; a configured one must exist)."""
    if settings.airflow_metadata_url is not None:
        return
    url = metadata_url(settings)
    admin = sa.create_engine(
        url.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as c:
            if not c.execute(sa.text("select 1 from pg_database where datname = :d"), {"d": url.database}).scalar():
                c.execute(sa.text(f'create database "{url.database}"'))
    except sa.exc.SQLAlchemyError as exc:
        raise ConfigError(
            f"cannot create Airflow's metadata database {url.database!r} on the warehouse's server "
            f"({type(getattr(exc, 'orig', None) or exc).__name__}); create it or set EDP_AIRFLOW_METADATA_URL"
        ) from None
    finally:
        admin.dispose()


def api_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.airflow_port}"


def log_server_ports(settings: Settings) -> tuple[int, int]:
    """The workers' and the triggerer's log servers."""
    return settings.airflow_port + 713, settings.airflow_port + 714


def passwords_file(settings: Settings) -> Path:
    return airflow_home(settings) / "passwords.json"


def admin_password(settings: Settings) -> str:
    """The UI's ``admin`` password, generated once; written where Airflow's simple auth manager reads it."""
    password = generated_secret(settings, "airflow_admin_password")
    path = passwords_file(settings)
    text = json.dumps({"admin": password}) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    return password


def airflow_config(settings: Settings) -> dict[str, dict[str, str]]:
    """Airflow's settings for this platform, by ``airflow.cfg`` section."""
    home = airflow_home(settings)
    celery = settings.airflow_executor == "celery"
    metadata = metadata_url(settings)
    config = {
        "core": {
            "dags_folder": str(REPO_ROOT / "dags"),
            "load_examples": "False",
            # Schedules in sources.yml are local (Asia/Shanghai) times.
            "default_timezone": "Asia/Shanghai",
            "executor": "CeleryExecutor" if celery else "LocalExecutor",
            "unit_test_mode": "False",
            # The platform runs on its own once up: a new DAG is scheduled, not parked.
            "dags_are_paused_at_creation": "False",
            # Two cores: a handful of tasks at once, not Airflow's default 32.
            "parallelism": "8",
            "max_active_tasks_per_dag": "4",
            "execution_api_server_url": f"{api_url(settings)}/execution/",
            "simple_auth_manager_users": "admin:admin",
            "simple_auth_manager_passwords_file": str(passwords_file(settings)),
        },
        "database": {
            "sql_alchemy_conn": metadata.render_as_string(hide_password=False),
            "sql_alchemy_conn_async": metadata.set(drivername="postgresql+psycopg_async").render_as_string(
                hide_password=False
            ),
        },
        "logging": {
            "base_log_folder": str(home / "logs"),
            # The log servers of workers and the triggerer follow the API server's port (8080: Airflow's own
            # 8793 and 8794), so two platforms on one host, or a test beside a running one, do not collide.
            "worker_log_server_port": str(log_server_ports(settings)[0]),
            "trigger_log_server_port": str(log_server_ports(settings)[1]),
        },
        "api": {
            "base_url": api_url(settings),
            "host": "127.0.0.1",
            "port": str(settings.airflow_port),
            "workers": "1",
            "secret_key": generated_secret(settings, "airflow_api_secret_key"),
        },
        # A loaded 2-core host answers a task's calls to the execution API slower than Airflow's 5 s.
        "workers": {"execution_api_timeout": "30.0"},
        # One key for every component: the scheduler signs task tokens the API server checks.
        "api_auth": {"jwt_secret": generated_secret(settings, "airflow_jwt_secret")},
        # astronomer-cosmos (the transform DAG's per-model tasks): no usage reports sent out (no
        # network at runtime), its caches (partial parse, profiles) per EDP_HOME.
        "cosmos": {"enable_telemetry": "False", "cache_dir": str(home / "cosmos")},
    }
    if celery:
        config.update(celery_config(settings, metadata))
    return config


def celery_config(settings: Settings, metadata: URL) -> dict[str, dict[str, str]]:
    """CeleryExecutor: the broker, results beside Airflow's metadata (psycopg 3, as SQLAlchemy's URL has it).

    A task's message is acknowledged when the task ends (the provider's
    ``task_acks_late``), so a worker that dies holding one loses it to nobody:
    RabbitMQ hands it on at once, Redis after ``visibility_timeout``, and a
    second delivery of a task already running or retried is refused by the API
    server. The retry itself comes from the scheduler, which fails a task whose
    heartbeats stop (``[scheduler] task_instance_heartbeat_timeout``).
    """
    broker = settings.celery_broker_url.get_secret_value()
    config = {
        "celery": {
            "broker_url": broker,
            # Celery's database backend takes any SQLAlchemy URL; the embedded server's socket is in its query.
            "result_backend": "db+" + metadata.render_as_string(hide_password=False),
            "worker_concurrency": "4",
        }
    }
    if broker.startswith(("redis://", "rediss://")):
        # Redis hands an unacknowledged message on after this long: longer than any task runs.
        config["celery_broker_transport_options"] = {"visibility_timeout": str(24 * 3600)}
    return config


def write_airflow_cfg(settings: Settings) -> Path:
    """``$EDP_HOME/airflow/airflow.cfg`` from :func:`airflow_config` (rewritten only when it differs).

    Owner-only: once the metadata database is a server, its URL carries a password.
    """
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict(airflow_config(settings))
    buffer = io.StringIO()
    parser.write(buffer)
    text = CFG_HEADER + buffer.getvalue()
    path = airflow_home(settings) / "airflow.cfg"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def airflow_env(settings: Settings) -> dict[str, str]:
    """The environment of every Airflow process the platform starts: its config file and the same settings."""
    write_airflow_cfg(settings)
    env = dict(os.environ)
    # The same settings as variables too: they win over anything else Airflow might read.
    env.update(
        {
            f"AIRFLOW__{section.upper()}__{key.upper()}": value
            for section, values in airflow_config(settings).items()
            for key, value in values.items()
        }
    )
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home(settings)),
            "AIRFLOW_CONFIG": str(airflow_home(settings) / "airflow.cfg"),
            "EDP_HOME": str(settings.home),
            "XDG_RUNTIME_DIR": env.get("XDG_RUNTIME_DIR", str(settings.home_dir / "run")),
        }
    )
    return env


def _airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _run(args: list[str], env: dict[str, str], log_path: Path, command: list[str] | None = None) -> str:
    """Run ``airflow <args>`` (or ``command``, named ``airflow <args>`` in the log and errors)."""
    argv = command or [_airflow_bin(), *args]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False, preexec_fn=die_with_parent())
    with log_path.open("a", encoding="utf-8") as fh:
        fh.write(f"$ airflow {' '.join(args)}\n{proc.stdout}\n{proc.stderr}\n")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])
        raise AirflowRunError(f"airflow {' '.join(args)} failed (exit {proc.returncode}); log {log_path}\n{tail}")
    return proc.stdout


def migrate(settings: Settings) -> None:
    """The warehouse and the metadata database at their current schemas, and the platform's pools."""
    from edp.storage.migrate import migrate as migrate_warehouse

    migrate_warehouse(settings)  # before any task: run-time code only checks the version
    ensure_metadata_database(settings)
    admin_password(settings)
    env = airflow_env(settings)
    _run(["db", "migrate"], env, airflow_home(settings) / "edp-airflow.log")
    ensure_pools(settings, env)


def ensure_pools(settings: Settings, env: dict[str, str] | None = None) -> bool:
    """Create or update the platform's pools (one per source, ``source_<name>``, and the exchange's): a task
    in a missing pool is never scheduled.

    ``airflow pools import`` sets each pool's slots and description; it runs
    only when the metadata database's pools differ from ``sources.yml`` (one
    look at ``slot_pool``), as an Airflow command costs seconds. Whether it ran.
    """
    wanted = platform_pools(settings)
    current = _current_pools(settings)
    if current is not None and all(current.get(n) == (p["slots"], p["description"]) for n, p in wanted.items()):
        return False
    path = airflow_home(settings) / "pools.json"
    path.write_text(json.dumps(wanted, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    _run(["pools", "import", str(path)], env or airflow_env(settings), airflow_home(settings) / "edp-airflow.log")
    return True


def _current_pools(settings: Settings) -> dict[str, tuple[int, str]] | None:
    """The platform's pools as the metadata database holds them (read only); None when it cannot tell."""
    eng = sa.create_engine(metadata_url(settings), poolclass=sa.pool.NullPool)
    try:
        with eng.connect() as c:
            rows = c.execute(
                sa.text("select pool, slots, description from slot_pool"),
            )
            return {r.pool: (r.slots, r.description) for r in rows}
    except sa.exc.SQLAlchemyError:  # not migrated yet, or a schema of another Airflow: import anyway
        return None
    finally:
        eng.dispose()


def dags_test(settings: Settings, *dag_ids: str) -> str:
    """Run each DAG once, in order, with the real Airflow (``airflow dags test``); raise at the first that fails.

    One Airflow process for them all (:mod:`edp.orchestration.dags_test`): its start costs seconds a DAG.
    """
    env = airflow_env(settings)
    command = [sys.executable, "-m", "edp.orchestration.dags_test", *dag_ids]
    return _run(["dags", "test", *dag_ids], env, airflow_home(settings) / "edp-airflow.log", command)


def pipeline_dags(settings: Settings) -> tuple[str, ...]:
    """DAG_ORDER without the DAGs of registered sources that sources.yml does not configure (nothing to read)."""
    configured = settings.sources()
    return tuple(d for d in DAG_ORDER if d not in SOURCES or d in configured)


def run_pipeline(settings: Settings, dag_ids: tuple[str, ...] | None = None) -> None:
    migrate(settings)
    dags_test(settings, *(pipeline_dags(settings) if dag_ids is None else dag_ids))


def airflow_cli(settings: Settings, args: list[str]) -> int:
    """``airflow <args>`` with the platform's configuration, attached to this terminal; its exit code."""
    return subprocess.run(
        [_airflow_bin(), *args], env=airflow_env(settings), check=False, preexec_fn=die_with_parent()
    ).returncode
