"""The real CLI's output and progress: JSON on a pipe with the table's fields, log lines on stderr, rich on a TTY."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standins.server import RunningServer
from standins.weather.app import create_app
from typer.testing import CliRunner

from edp.cli import app as cli
from edp.secrets import source_credential
from edp.settings import Settings
from tests.support.standin_servers import StandinServers
from tests.support.warehouse import hazard_event_mart

pytestmark = pytest.mark.integration

EDP = str(Path(sys.executable).with_name("edp"))


def _env(s: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "EDP_HOME": str(s.home), "EDP_LOG_LEVEL": "INFO", **extra}


def _run(s: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EDP, *args], env=_env(s), capture_output=True, text=True, timeout=600)


def _json_and_table(*args: str) -> tuple[Any, str]:
    """A command's output on a pipe (JSON) and with ``--format table``, in this process (a start costs seconds)."""
    as_json, as_table = CliRunner().invoke(cli, list(args)), CliRunner().invoke(cli, [*args, "--format", "table"])
    assert as_json.exit_code == as_table.exit_code == 0, as_json.output + as_table.output
    return json.loads(as_json.stdout), as_table.stdout


def _table_fields(text: str) -> set[str]:
    """The fields a rich table shows: its column names, or the first column of a key/value table."""
    rows = [[c.strip() for c in line.strip("┃│").split("┃" if "┃" in line else "│")] for line in text.splitlines()
            if line.startswith(("┃", "│"))]  # fmt: skip
    header, body = rows[0], rows[1:]
    return {r[0] for r in body} if header[0] == "field 字段" else set(header)


def _on_a_tty(s: Settings, *args: str, timeout: float = 300) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal; its exit code and everything it drew."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([EDP, *args], env=_env(s, TERM="xterm-256color", COLUMNS="120"), stdin=follower,
                            stdout=follower, stderr=follower, close_fds=True)  # fmt: skip
    os.close(follower)
    drawn = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            drawn += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    # Without its colours and cursor moves: what the operator reads.
    return proc.wait(timeout=30), re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", drawn.decode("utf-8", "replace"))


def test_ingest_logs_progress_on_a_pipe_and_load_reports_the_same_fields_as_json_and_table(
    settings: Settings, standin_servers: StandinServers
) -> None:
    app = create_app(api_key=source_credential(settings, "weather", "api_key"), seed=7, scale=0.1)
    app.state.clock.freeze(datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    standin_servers.start(app, source="weather")
    env = {**_env(settings), "EDP_WEATHER_INITIAL_DAYS": "1"}
    ingested = subprocess.run([EDP, "ingest", "weather"], env=env, capture_output=True, text=True, timeout=600)
    assert ingested.returncode == 0, ingested.stderr[-3000:]
    (result,) = json.loads(ingested.stdout)  # a pipe: JSON, no table, no progress drawing
    assert set(result) == {"source", "batches", "rows", "quarantined", "loaded"} and result["rows"] > 0
    progress = [line for line in ingested.stderr.splitlines() if " edp.progress: " in line]
    rows = result["rows"]
    assert any(re.search(r"weather\.observations extract 抽取: done, [\d,]+ rows, \d+ pages", p) for p in progress)
    loads = [p for p in progress if "load 入库: done," in p]
    assert len(loads) == result["loaded"] and all("1 batches" in p for p in loads), progress
    copied = [int(m[1].replace(",", "")) for p in loads if (m := re.search(r"done, ([\d,]+) rows", p))]
    assert sum(copied) == rows  # the rows each load copied, per chunk: the batches' rows
    assert "\x1b[" not in ingested.stderr  # no terminal drawing on a pipe

    loaded, table = _json_and_table("load")
    assert set(loaded) == _table_fields(table) == {"loaded", "rows"}
    listed, table = _json_and_table("quarantine", "list")
    assert isinstance(listed, list)
    if listed:
        assert _table_fields(table) == {k for row in listed for k in row}


def test_sync_reports_per_dataset_as_it_goes_and_draws_progress_on_a_terminal(
    settings: Settings, anshan_city: Callable[..., RunningServer]
) -> None:
    anshan_city(timeout_seconds=5)
    hazard_event_mart(settings, 1500)
    synced = _run(settings, "sync")
    assert synced.returncode == 0, synced.stderr[-3000:]
    result = json.loads(synced.stdout)
    assert result["hazard_events"]["sent"]["records"] == 1500
    line = next(x for x in synced.stderr.splitlines() if "sync hazard_events 交换: done," in x)
    assert "1,500 rows, 2 batches, 1,500 accepted, 0 rejected" in line, line

    status_json, status_table = _json_and_table("sync", "status")
    assert _table_fields(status_table) == {k for row in status_json for k in row} and status_json

    hazard_event_mart(settings, 1600)  # 100 new rows: the terminal run has something to send
    code, drawn = _on_a_tty(settings, "sync")
    assert code == 0, drawn[-3000:]
    assert "sync hazard_events 交换" in drawn and "rows/s" in drawn and "✓" in drawn  # rich's live lines
    assert " edp.progress: " not in drawn  # not log lines
    assert re.search(r"┃ name +┃ blocked +┃ diff", drawn), drawn[-3000:]  # the result: a table on a terminal
