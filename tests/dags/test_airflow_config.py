"""One Airflow configuration: `edp airflow`, a plain `airflow` with AIRFLOW_HOME, and the demo see the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from edp.cli import app
from edp.orchestration.airflow_run import airflow_config, airflow_env, write_airflow_cfg
from edp.orchestration.pools import EXCHANGE_POOL, platform_pools, source_pools
from edp.orchestration.services import worker_argv, worker_node
from edp.settings import REPO_ROOT, Settings

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def plain_airflow(home: Path, *args: str) -> str:
    """`airflow <args>` as a data engineer runs it: only AIRFLOW_HOME set, no AIRFLOW__* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")} | {"AIRFLOW_HOME": str(home)}
    done = subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=300, check=True)
    return done.stdout.strip()


def test_a_plain_airflow_reads_the_platforms_configuration(home_settings: Settings) -> None:
    cfg = write_airflow_cfg(home_settings)
    home = cfg.parent

    assert cfg == home_settings.home_dir / "airflow" / "airflow.cfg"
    assert cfg.stat().st_mode & 0o077 == 0  # it will hold the metadata database's URL
    assert plain_airflow(home, "config", "get-value", "core", "dags_folder") == str(REPO_ROOT / "dags")
    assert plain_airflow(home, "config", "get-value", "core", "load_examples") == "False"
    assert (
        plain_airflow(home, "config", "get-value", "database", "sql_alchemy_conn")
        == (airflow_env(home_settings)["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    )
    # Written again only when it would change: an operator's look at it does not race a running service.
    before = cfg.stat().st_mtime_ns
    write_airflow_cfg(home_settings)
    assert cfg.stat().st_mtime_ns == before


def test_edp_airflow_passes_arguments_and_exit_code_through(
    home_settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    runner = CliRunner()

    ok = runner.invoke(app, ["airflow", "config", "get-value", "core", "default_timezone"])
    assert ok.exit_code == 0
    assert capfd.readouterr().out.strip() == "Asia/Shanghai"

    wrong = runner.invoke(app, ["airflow", "dags", "no-such-command"])
    assert wrong.exit_code == 2  # argparse's usage error, from airflow itself
    assert "invalid choice: 'no-such-command'" in capfd.readouterr().err


def test_celery_executor_broker_results_and_workers(home_settings: Settings) -> None:
    assert "celery" not in airflow_config(home_settings)
    celery = home_settings.model_copy(update={"airflow_executor": "celery"})

    config = airflow_config(celery)

    assert config["core"]["executor"] == "CeleryExecutor"
    assert config["celery"]["broker_url"] == "redis://127.0.0.1:6379/0"
    # Results beside Airflow's metadata, through the same driver.
    assert config["celery"]["result_backend"] == "db+" + config["database"]["sql_alchemy_conn"]
    assert config["celery"]["result_backend"].startswith("db+postgresql+psycopg://")
    assert config["celery_broker_transport_options"]["visibility_timeout"] == "86400"
    rabbit = celery.model_copy(update={"celery_broker_url": SecretStr("amqp://guest:guest@127.0.0.1:5672//")})
    assert "celery_broker_transport_options" not in airflow_config(rabbit)

    argv = worker_argv(celery, ("default", "water"), 2, node=worker_node(2), serve_logs=False)
    assert argv[1:] == [
        "celery",
        "worker",
        "--queues",
        "default,water",
        "--concurrency",
        "2",
        "--without-mingle",
        "--without-gossip",
        "--celery-hostname",
        worker_node(2),
        "--skip-serve-logs",
    ]


def test_one_pool_per_source_slots_from_sources_yml(home_settings: Settings, tmp_path: Path) -> None:
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "sources:\n  weather: {url: sandbox, options: {pool_slots: 3}}\n  water: {url: sandbox}\n", encoding="utf-8"
    )
    pools = source_pools(home_settings.model_copy(update={"sources_file": sources}))

    assert pools["source_weather"]["slots"] == 3
    assert pools["source_water"]["slots"] == 1
    assert pools["source_bureau"]["slots"] == 1  # every source has a DAG, configured or not
    every = platform_pools(home_settings.model_copy(update={"sources_file": sources}))
    assert every.keys() - pools.keys() == {EXCHANGE_POOL}  # the syncs, one at a time
    assert every[EXCHANGE_POOL]["slots"] == 1
