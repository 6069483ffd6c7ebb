"""Per-file quarantine through the real ingest (drop folder → lake → PostgreSQL raw and ops.quarantine).

Given a police drop with good files and one file missing a required column
plus a symlink out of the folder, and a bureau inbox with a corrupt workbook
beside good ones, when ``ingest`` runs twice, then the good files load once,
each bad file is one quarantine entry naming the file and the reason, a rerun
adds and reports nothing, and once the bad file is replaced it loads and
``edp quarantine replay`` closes its entry.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from standins.bureau import hostile
from standins.bureau import populate as populate_inbox
from standins.police import drop_day
from standins.police.drop import encode_csv, marker_bytes

from edp.ingest.quarantine import replay
from edp.orchestration.pipeline import ingest
from edp.settings import Settings
from edp.storage.warehouse import engine
from tests.support.sources import point_at
from tests.support.warehouse import repeated_keys, scalar

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
CST = timezone(timedelta(hours=8))
END = date(2026, 11, 28)
UNTIL = datetime(2026, 11, 29, 1, 30, tzinfo=CST)


def _quarantine(s: Settings, source: str) -> list[sa.Row]:
    with engine(s).connect() as c:
        return c.execute(
            sa.text(
                "select dataset, locator, field, reason, record, replayed_at, replay_batch_id from ops.quarantine "
                "where source = :s order by dataset, quarantine_id"
            ),
            {"s": source},
        ).all()


def _drop_column(drop: Path, name: str, column: str) -> None:
    rows = list(csv.reader(io.StringIO((drop / name).read_bytes().decode("gb18030"), newline="")))
    keep = [i for i, h in enumerate(rows[0]) if h != column]
    data = encode_csv([rows[0][i] for i in keep], [[r[i] for i in keep] for r in rows[1:] if r])
    (drop / name).write_bytes(data)
    (drop / f"{name}.ok").write_bytes(marker_bytes(data, len(rows) - 1))


def test_police_one_bad_file_among_good_ones(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    s = point_at(monkeypatch, "police", str(drop))
    earlier = drop_day(drop, END - timedelta(days=1), seed=7, scale=0.3, kinds=["JTSG"])
    drop_day(drop, END, seed=7, scale=0.3, kinds=["JTSG"])
    _drop_column(drop, "JTSG_20261128.csv", "事故编号")
    (tmp_path / "secret.csv").write_text("outside the drop")
    (drop / "JTSG_20261126.csv").symlink_to(tmp_path / "secret.csv")
    (drop / "JTSG_20261126.csv.ok").symlink_to(tmp_path / "secret.csv")

    first = ingest("police", s, until=UNTIL)
    good = len(earlier["keys"]["JTSG_20261127.csv"])
    assert scalar(s, "select count(*) from raw.police__accidents") == good
    entries = [q for q in _quarantine(s, "police") if q.dataset == "accidents"]
    assert [(Path(q.locator).name, q.field) for q in entries] == [
        ("JTSG_20261126.csv", "source_file"),
        ("JTSG_20261128.csv", "事故编号"),
    ]
    assert "symbolic link" in entries[0].reason and "missing required column(s) 事故编号" in entries[1].reason
    assert entries[1].record["_refused"]["sha256"] and "outside the drop" not in str(entries[0].record)
    assert first["quarantined"] >= 2

    reported = len(_quarantine(s, "police"))
    second = ingest("police", s, until=UNTIL)
    assert second["rows"] == 0 and second["quarantined"] == 0
    assert len(_quarantine(s, "police")) == reported
    assert repeated_keys(s, "raw.police__accidents", "accident_id") == 0

    # replay before the fix: nothing to load, the entry stays open
    assert replay(s, "police")["datasets"]["accidents"]["files_replaced"] == 0
    # the bureau re-sends the day: it loads, and replay closes the file's entry
    drop_day(drop, END, seed=7, scale=0.3, kinds=["JTSG"])
    ingest("police", s, until=UNTIL)
    assert scalar(s, "select count(*) from raw.police__accidents where source_file = 'JTSG_20261128.csv'") > 0
    out = replay(s, "police")["datasets"]["accidents"]
    assert out["files_replaced"] == 1 and out["replayed"] == 0
    closed = {Path(q.locator).name: q.replay_batch_id for q in _quarantine(s, "police") if q.dataset == "accidents"}
    assert closed["JTSG_20261128.csv"] is not None and closed["JTSG_20261126.csv"] is None
    assert repeated_keys(s, "raw.police__accidents", "accident_id") == 0


def test_bureau_a_corrupt_workbook_among_good_ones(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    s = point_at(monkeypatch, "bureau", inbox.as_uri())
    uploaded = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    info = populate_inbox(inbox, seed=4, scale=0.5, uploaded_at=uploaded)
    facts = Path(info["registers"]["division_facts"]["path"])
    good_bytes = facts.read_bytes()
    headers = ["所属辖区代码", "名称", "常住人口", "面积(km²)", "中心经度", "中心纬度"]
    rows = [[f"2103811{i:05d}", "镇", 1, 1.0, 122.7, 40.8] for i in range(300)]
    facts.write_bytes(hostile.corrupt_sheet(headers, rows))
    os.utime(facts, (uploaded.timestamp(), uploaded.timestamp()))  # the upload time
    until = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

    ingest("bureau", s, until=until)
    for dataset in ("material_stock", "rescue_teams", "event_reports"):
        assert scalar(s, f"select count(*) from raw.bureau__{dataset}") == info["registers"][dataset]["rows"]
    (entry,) = [q for q in _quarantine(s, "bureau") if q.dataset == "division_facts"]
    assert Path(entry.locator).name == facts.name and facts.name in entry.reason
    assert "not a readable .xlsx workbook" in entry.reason
    assert scalar(s, "select count(*) from raw.bureau__division_facts") == 0

    assert ingest("bureau", s, until=until)["quarantined"] == 0  # not retried while unchanged
    facts.write_bytes(good_bytes)  # the corrected upload
    os.utime(facts, (uploaded.timestamp() + 60, uploaded.timestamp() + 60))
    ingest("bureau", s, until=until)
    assert scalar(s, "select count(*) from raw.bureau__division_facts") == info["registers"]["division_facts"]["rows"]
    assert replay(s, "bureau")["datasets"]["division_facts"]["files_replaced"] == 1
