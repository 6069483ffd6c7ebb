"""Mart → Anshan exchange stand-in: exactly the local records, a receipt per batch."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from standins.server import RunningServer

from edp.exchange.sync import status, sync
from edp.settings import Settings
from edp.storage.warehouse import engine
from tests.support.standin_servers import city_records
from tests.support.warehouse import hazard_event_mart

pytestmark = pytest.mark.integration


@pytest.fixture
def city(settings: Settings, anshan_city: Callable[..., RunningServer]) -> tuple[Settings, RunningServer]:
    """The exchange stand-in, and a sync that waits 1 s for a reply (a lost reply is 1.2 s or more late)."""
    server = anshan_city(timeout_seconds=1)
    return Settings(), server


def _local(s: Settings) -> dict[str, dict]:
    with engine(s).connect() as c:
        rows = c.execute(sa.text("select event_id, description from marts.fct_hazard_event")).all()
    return {r.event_id: {"description": r.description} for r in rows}


def test_sync_sends_every_row_once_with_receipts(city) -> None:
    s, server = city
    hazard_event_mart(s, 2300)
    (first,) = sync(s, ["hazard_events"])
    assert first.diff == {"upsert": 2300, "delete": 0, "unchanged": 0}
    assert first.batches_packed == 3  # 1000 + 1000 + 300
    kept = city_records(server.url)
    assert {k: v["data"]["description"] for k, v in kept.items()} == {k: v["description"] for k, v in _local(s).items()}
    assert {v["version"] for v in kept.values()} == {1}
    with engine(s).connect() as c:
        assert c.execute(sa.text("select count(*) from sync.receipts")).scalar() == 3
        assert c.execute(sa.text("select count(*) from sync.batches where status <> 'acked'")).scalar() == 0
        bodies = c.execute(sa.text("select batch_id, body from sync.batches order by seq")).all()
        packed = dict(c.execute(sa.text("select record_id, batch_id from sync.outbox")).all())
    # pack: each record in exactly one stored batch, the one its outbox row names; together all of them.
    in_batches = Counter(r["record_id"] for _, body in bodies for r in json.loads(bytes(body))["records"])
    assert set(in_batches.values()) == {1} and set(in_batches) == set(_local(s))
    assert {r["record_id"]: batch_id for batch_id, body in bodies for r in json.loads(bytes(body))["records"]} == packed
    (again,) = sync(s, ["hazard_events"])
    assert again.diff["unchanged"] == 2300 and again.batches_packed == 0


def test_changes_and_deletes_go_out_as_new_versions(city) -> None:
    s, server = city
    hazard_event_mart(s, 5)
    sync(s, ["hazard_events"])
    with engine(s).begin() as c:
        c.execute(sa.text("update marts.fct_hazard_event set description='更正' where event_id='weather-rain-1'"))
        c.execute(sa.text("delete from marts.fct_hazard_event where event_id='weather-rain-2'"))
    (result,) = sync(s, ["hazard_events"])
    assert result.diff == {"upsert": 1, "delete": 1, "unchanged": 3}
    kept = city_records(server.url)
    assert kept["weather-rain-1"]["version"] == 2 and kept["weather-rain-1"]["data"]["description"] == "更正"
    assert kept["weather-rain-2"]["deleted"] is True and kept["weather-rain-2"]["version"] == 2
    (ledger,) = status(s)
    assert ledger["accepted"] == 7 and ledger["pending"] == 0 and ledger["receipts"] == 2


def test_faults_and_lost_replies_end_with_exactly_the_local_records(city) -> None:
    s, server = city
    hazard_event_mart(s, 6500)
    faults = {
        "fail_503_rate": 0.3,
        "fail_429_rate": 0.15,
        "lost_reply_rate": 0.3,
        "lost_reply_delay": 1.5,
        "duplicate_delivery_rate": 0.5,
    }
    httpx.post(f"{server.url}/__admin/faults", json=faults).raise_for_status()
    sync(s, ["hazard_events"])
    kept = city_records(server.url)
    assert set(kept) == set(_local(s))
    with engine(s).connect() as c:
        batches = c.execute(sa.text("select count(*) from sync.batches")).scalar()
        receipts = c.execute(sa.text("select count(distinct batch_id) from sync.receipts")).scalar()
        by_lookup = c.execute(sa.text("select count(*) from sync.receipts where via='lookup'")).scalar()
    assert batches == receipts == 7
    stats = httpx.get(f"{server.url}/__admin/stats").json()
    failed = {k: v for k, v in stats["requests"]["by_status"].items() if k in ("429", "503")}
    assert sum(failed.values()) > 0, json.dumps(stats)
    assert stats["batches"] == 7 and stats["records"] == 6500  # nothing stored twice...
    assert stats["duplicates_absorbed"] > 0  # ...though the network delivered some batches twice
    assert by_lookup > 0, "some replies were lost: their receipts must come from a lookup"


def test_reconciliation_agrees_and_feedback_is_recorded(city) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from edp.exchange.ledger import pull_feedback, reconcile

    s, server = city
    hazard_event_mart(s, 1500)
    sync(s, ["hazard_events"])
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    (line,) = reconcile(s, today, ["hazard_events"])
    assert line["agrees"], line["differences"]
    assert line["local"]["batches"] == 2 and line["local"]["records"] == 1500
    httpx.post(
        f"{server.url}/__admin/feedback",
        json={"dataset": "hazard_events", "record_id": "weather-rain-7", "reason": "坐标疑似错误 coordinates doubtful"},
    ).raise_for_status()
    first = pull_feedback(s)
    assert first["pulled"] == 1 and [o["record_id"] for o in first["open"]] == ["weather-rain-7"]
    with engine(s).begin() as c:
        c.execute(
            sa.text("update marts.fct_hazard_event set division_code='210381102000' where event_id='weather-rain-7'")
        )
    sync(s, ["hazard_events"])  # the corrected record goes out as a new version...
    assert city_records(server.url)["weather-rain-7"]["version"] == 2
    assert pull_feedback(s)["open"] == []  # ...which answers the doubt


def test_a_killed_sync_reruns_to_the_same_result(city, tmp_path: Path) -> None:
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    s, server = city
    hazard_event_mart(s, 5500)
    # Slow, lossy city: a kill lands mid-batch, between store and reply, or between batches.
    faults = {"fail_503_rate": 0.2, "lost_reply_rate": 0.3, "lost_reply_delay": 1.2}
    httpx.post(f"{server.url}/__admin/faults", json=faults).raise_for_status()
    env = {**os.environ, "EDP_HOME": str(s.home)}
    edp = str(Path(sys.executable).with_name("edp"))
    rng = random.Random(11)
    for _ in range(4):
        proc = subprocess.Popen([edp, "sync"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = subprocess.run([edp, "sync"], env=env, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-2000:]
    kept = city_records(server.url)
    assert set(kept) == set(_local(s))
    assert {v["version"] for v in kept.values()} == {1}  # nothing was packed twice
    with engine(s).connect() as c:
        batches = c.execute(sa.text("select count(*) from sync.batches")).scalar()
        receipts = c.execute(sa.text("select count(distinct batch_id) from sync.receipts")).scalar()
        outbox = c.execute(sa.text("select count(*) from sync.outbox")).scalar()
    assert batches == receipts == 6
    assert outbox == 5500
    stats = httpx.get(f"{server.url}/__admin/stats").json()
    assert stats["batches"] == 6 and stats["records"] == 5500
