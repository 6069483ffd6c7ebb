"""Two `edp sync` at once (the CLI beside an Airflow run): both finish, the city holds each record once.

Before the migrations, the quality-status lookup of every sync ran schema changes under exclusive
locks and one of two concurrent syncs died with ``DeadlockDetected``; now syncs queue per dataset on
an advisory lock (``edp.exchange.sync.target_lock``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from standins.server import RunningServer

from edp.settings import Settings
from tests.support.standin_servers import city_records
from tests.support.warehouse import count, hazard_event_mart

pytestmark = pytest.mark.integration

EVENTS = 2500  # three batches (1000 + 1000 + 500)


def _edp() -> str:
    return str(Path(sys.executable).with_name("edp"))


def test_two_syncs_at_once_finish_and_send_each_record_once(
    settings: Settings, anshan_city: Callable[..., RunningServer]
) -> None:
    server = anshan_city(timeout_seconds=5)
    hazard_event_mart(settings, EVENTS)
    env = {**os.environ, "EDP_HOME": str(settings.home)}
    runs = [
        subprocess.Popen([_edp(), "sync"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=600), *p.communicate()) for p in runs]
    for code, _out, err in outcomes:
        assert code == 0, err[-3000:]
        assert "Deadlock" not in err
    kept = city_records(server.url)
    assert len(kept) == EVENTS
    assert {v["version"] for v in kept.values()} == {1}  # nothing packed twice
    stats = httpx.get(f"{server.url}/__admin/stats", trust_env=False).json()
    assert stats["batches"] == 3 and stats["records"] == EVENTS
    assert count(settings, "select count(*) from sync.outbox") == EVENTS
    assert count(settings, "select count(*) from sync.batches where status = 'acked'") == 3
