"""The lying city: 200s that are not receipts of the batch are protocol errors, never acknowledgements.

The exchange stand-in lies on purpose (fault switch ``lie``); the real ``sync()`` runs against it,
then against the same city honest again: every record ends at the city exactly once, acknowledged
by a verified receipt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from standins.server import RunningServer

from edp.alerts import open_alerts, recent_alerts
from edp.exchange.sync import rejected_records, status, sync
from edp.settings import Settings
from edp.storage.warehouse import engine
from tests.support.standin_servers import city_records
from tests.support.warehouse import hazard_event_mart

pytestmark = pytest.mark.integration

ROWS = 1200  # two batches: 1000 + 200
KEY = "receipt_invalid:hazard_events"
REASON = "坐标越界 off the map"


@pytest.fixture
def city(settings: Settings, anshan_city: Callable[..., RunningServer]) -> tuple[Settings, RunningServer]:
    server = anshan_city(timeout_seconds=5)
    return Settings(), server


def _faults(server: RunningServer, **switches: Any) -> None:
    httpx.post(f"{server.url}/__admin/faults", json=switches, trust_env=False).raise_for_status()


def _city_stats(server: RunningServer) -> dict[str, Any]:
    return httpx.get(f"{server.url}/__admin/stats", trust_env=False).json()


def _ledger(s: Settings) -> dict[str, Any]:
    with engine(s).connect() as c:
        return {
            "outbox": dict(c.execute(sa.text("select status, count(*) from sync.outbox group by status")).all()),
            "batches": dict(c.execute(sa.text("select batch_id, status from sync.batches")).all()),
            "errors": [r for (r,) in c.execute(sa.text("select last_error from sync.batches order by seq"))],
            "receipts": c.execute(sa.text("select count(*) from sync.receipts")).scalar_one(),
            "receipt_errors": c.execute(sa.text("select count(*) from sync.receipt_errors")).scalar_one(),
        }


def _receipt_alerts(s: Settings) -> list[Any]:
    return [a for a in open_alerts(s) if a.key == KEY]


@pytest.mark.parametrize(
    ("lie", "without_storing", "fragment"),
    [
        # The probe's case: "accepted 0, another batch", and the city never stored it.
        ("wrong_batch_id", True, "receipt names batch"),
        ("short_accepted", True, "receipt accounts for"),
        ("bad_digest", False, "records_sha256"),
        ("foreign_rejected", False, "names record 'not-a-record-of-this-batch'"),
        ("empty_body", False, "empty body"),
        ("not_json", True, "not JSON"),
        ("oversized", False, "reply longer than 2097152 bytes"),
    ],
)
def test_a_lying_city_acknowledges_nothing_and_the_honest_rerun_delivers_exactly_once(
    city: tuple[Settings, RunningServer], lie: str, without_storing: bool, fragment: str
) -> None:
    s, server = city
    hazard_event_mart(s, ROWS)
    _faults(server, lie=lie, lie_without_storing=without_storing)

    (first,) = sync(s, ["hazard_events"])
    assert first.batches_packed == 2
    assert first.sent["protocol_errors"] == 2 and first.sent["sent"] == 0 and first.sent["records"] == 0
    ledger = _ledger(s)
    assert "accepted" not in ledger["outbox"] and "rejected" not in ledger["outbox"]
    assert set(ledger["batches"].values()) == {"receipt_invalid"}
    assert ledger["receipts"] == 0
    assert fragment in ledger["errors"][0], ledger["errors"]
    (alert,) = _receipt_alerts(s)
    assert alert.kind == "receipt_invalid" and alert.dataset == "hazard_events" and alert.occurrences == 2
    assert fragment in alert.reason
    city_batches = 0 if without_storing else 2
    assert _city_stats(server)["batches"] == city_batches
    assert len(city_records(server.url)) == (0 if without_storing else ROWS)
    (line,) = status(s)
    assert line["protocol_errors"] == ROWS and line["accepted"] == 0 and line["invalid_receipt_batches"] == 2
    assert line["pending"] == 0 and line["sent_unacked"] == 0 and fragment in line["protocol_error"]

    # Still lying: looked up, resent, still not believed; one alert, counted again; nothing packed anew.
    (second,) = sync(s, ["hazard_events"])
    assert second.diff["unchanged"] == ROWS and second.batches_packed == 0
    assert second.sent["protocol_errors"] == 2
    assert _ledger(s)["receipts"] == 0
    (alert,) = _receipt_alerts(s)
    assert alert.occurrences == 4
    assert _city_stats(server)["batches"] == city_batches

    _faults(server, lie="")
    (honest,) = sync(s, ["hazard_events"])
    assert honest.sent["protocol_errors"] == 0 and honest.sent["sent"] == 2 and honest.sent["records"] == ROWS
    # Stored during the lie: found by the lookup; never stored: sent again, the same bytes.
    assert honest.sent["acked_by_lookup"] == (0 if without_storing else 2)
    ledger = _ledger(s)
    assert ledger["outbox"] == {"accepted": ROWS}
    assert set(ledger["batches"].values()) == {"acked"} and ledger["receipts"] == 2
    assert ledger["errors"] == [None, None]
    stats = _city_stats(server)
    assert stats["batches"] == 2 and stats["records"] == ROWS  # exactly once at the city
    kept = city_records(server.url)
    assert len(kept) == ROWS and {r["version"] for r in kept.values()} == {1}
    assert _receipt_alerts(s) == []
    assert [a.key for a in recent_alerts(s, 1) if a.key == KEY and a.resolved_at is not None] == [KEY]
    (line,) = status(s)
    assert line["protocol_errors"] == 0 and line["accepted"] == ROWS and line["receipts"] == 2


def test_edp_sync_exits_1_on_a_protocol_error_and_status_shows_it(city: tuple[Settings, RunningServer]) -> None:
    s, server = city
    hazard_event_mart(s, 5)
    _faults(server, lie="wrong_batch_id")
    env = {**os.environ, "EDP_HOME": str(s.home)}
    edp = str(Path(sys.executable).with_name("edp"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([edp, *args], env=env, capture_output=True, text=True, timeout=600)

    lying = run("sync")
    assert lying.returncode == 1, lying.stderr[-2000:]
    assert json.loads(lying.stdout)["hazard_events"]["sent"]["protocol_errors"] == 1
    lines = {line["dataset"]: line for line in json.loads(run("sync", "status").stdout)}
    assert lines["hazard_events"]["protocol_errors"] == 5 and lines["hazard_events"]["accepted"] == 0
    assert "receipt names batch" in lines["hazard_events"]["protocol_error"]
    assert lines["hazard_events"]["withheld"] == 0
    _faults(server, lie="")
    honest = run("sync")
    assert honest.returncode == 0, honest.stderr[-2000:]
    lines = {line["dataset"]: line for line in json.loads(run("sync", "status").stdout)}
    assert lines["hazard_events"]["protocol_errors"] == 0 and lines["hazard_events"]["accepted"] == 5


def test_rejected_records_are_kept_listed_and_resent_only_once_corrected(city: tuple[Settings, RunningServer]) -> None:
    s, server = city
    hazard_event_mart(s, 5)
    httpx.post(
        f"{server.url}/__admin/rejections",
        json={"dataset": "hazard_events", "record_id": "weather-rain-3", "version": 1, "reason": REASON},
        trust_env=False,
    ).raise_for_status()
    (first,) = sync(s, ["hazard_events"])
    assert first.sent["records"] == 4 and first.sent["rejected"] == 1
    assert "weather-rain-3" not in city_records(server.url)
    (rejected,) = rejected_records(s)
    assert rejected["record_id"] == "weather-rain-3" and rejected["version"] == 1
    assert rejected["reason"] == REASON and rejected["rejected_at"] is not None
    assert rejected["corrected_version"] is None
    (line,) = status(s)
    assert line["accepted"] == 4 and line["rejected"] == 1 and line["rejected_open"] == 1

    # Unchanged at the source: not resent blindly, run after run.
    for _ in range(2):
        (again,) = sync(s, ["hazard_events"])
        assert again.diff == {"upsert": 0, "delete": 0, "unchanged": 5} and again.batches_packed == 0
    assert _city_stats(server)["batches"] == 1

    with engine(s).begin() as c:
        c.execute(
            sa.text("update marts.fct_hazard_event set division_code='210381102000' where event_id='weather-rain-3'")
        )
    (fixed,) = sync(s, ["hazard_events"])
    assert fixed.diff["upsert"] == 1 and fixed.sent["records"] == 1 and fixed.sent["rejected"] == 0
    assert city_records(server.url)["weather-rain-3"]["version"] == 2
    (rejected,) = rejected_records(s, "hazard_events")
    assert rejected["corrected_version"] == 2 and rejected["corrected_status"] == "accepted"
    (line,) = status(s)
    assert line["accepted"] == 5 and line["rejected"] == 1 and line["rejected_open"] == 0
