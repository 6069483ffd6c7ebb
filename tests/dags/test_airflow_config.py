"""One Airflow configuration: `edp airflow`, a plain `airflow` with AIRFLOW_HOME, and the demo see the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edp.cli import app
from edp.orchestration.airflow_run import airflow_env, write_airflow_cfg
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
