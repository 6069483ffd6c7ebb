"""The marts' rpt_ views over the platform's own tables (audit, ops.quarantine, sync): figures,
what the read-only role may read, and a first transform on an empty warehouse.

The figures test writes audit, quarantine and exchange rows itself and derives every expected
figure from those rows in Python, not from the views' SQL.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from edp.ingest.loader import ensure_declared_raw_tables
from edp.orchestration.pipeline import transform
from edp.serve.superset import reader_role
from edp.settings import Settings
from edp.storage.warehouse import engine
from edp.transform.dbt_runner import run_dbt

pytestmark = pytest.mark.integration

CST = timezone(timedelta(hours=8))
VIEWS = (
    "rpt_quality_daily",
    "rpt_quality_dataset_status",
    "rpt_quarantine_summary",
    "rpt_exchange_status",
    "rpt_exchange_doubts_open",
)
SOURCES = (
    "audit.check_runs",
    "audit.expectation_results",
    "audit.dataset_status",
    "ops.quarantine",
    "sync.outbox",
    "sync.batches",
    "sync.receipts",
    "sync.feedback",
)
# Values that must never reach the reader: a resident ID number, a pseudonym key, a payload's text.
SECRET_ID = "210381199001011234"
SECRET_PSEUDONYM = "psn_7f3a9c0d5e1b2a48"
SECRET_TEXT = "张三家门口"

# Check runs: 17:30 UTC on 1 December is 01:30 on 2 December in 海城市.
RUNS = {
    "r1": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
    "r2": datetime(2026, 12, 1, 17, 30, tzinfo=UTC),
    "r3": datetime(2026, 12, 2, 3, 0, tzinfo=UTC),
}
DIMENSIONS = {"completeness": "完整性", "accuracy": "准确性", "timeliness": "及时性"}
DATASETS = ("raw.weather__observations", "raw.police__alarms", "marts.fct_hazard_event")


def _results() -> list[dict[str, Any]]:
    """A varied, deterministic set: every run checks every dataset, outcomes differ per run."""
    rows = []
    for n_run, run_id in enumerate(RUNS):
        for n_ds, dataset in enumerate(DATASETS):
            for n_dim, dimension in enumerate(DIMENSIONS):
                for k in range(1 + (n_ds + n_dim) % 3):
                    fails = (n_run + n_ds + n_dim + k) % 4 == 0
                    severity = "blocking" if (n_dim + k) % 2 == 0 else "warning"
                    # The last run fails nothing blocking on the police alarms: no longer blocked.
                    if run_id == "r3" and dataset == "raw.police__alarms":
                        fails = fails and severity == "warning"
                    rows.append(
                        {
                            "run_id": run_id,
                            "dataset": dataset,
                            "dimension": dimension,
                            "severity": severity,
                            "success": not fails,
                            "sample": json.dumps([SECRET_ID, SECRET_PSEUDONYM]) if fails else None,
                        }
                    )
    return rows


QUARANTINE = [
    # (source, dataset, field, reason, replayed)
    ("police", "alarms", "id_number", f"expected an 18-character ID number: '{SECRET_ID}'", False),
    ("police", "alarms", "id_number", "expected an 18-character ID number: '110101200001010000'", True),
    ("police", "alarms", "division_code", "'2103' is not a 12-digit division code of 海城市", False),
    ("water", "river", "Z", "negative value -3.25 is impossible", False),
    ("water", "river", None, "required value is missing", False),
]

NOW = datetime.now(UTC)
# Outbox: (dataset, record_id, version, status, batch_id, created minutes ago)
OUTBOX = [
    ("hazard_events", "e1", 1, "accepted", "b1", 300),
    ("hazard_events", "e2", 1, "accepted", "b1", 300),
    ("hazard_events", "e3", 1, "rejected", "b2", 200),
    ("hazard_events", "e4", 1, "packed", "b3", 90),
    ("hazard_events", "e5", 1, "pending", None, 30),
    ("warnings", "w1", 1, "accepted", "b4", 100),
]
# Batches: (batch_id, dataset, status, first sent minutes ago, acked minutes ago)
BATCHES = [
    ("b1", "hazard_events", "acked", 290, 289),
    ("b2", "hazard_events", "acked", 190, 188),
    ("b3", "hazard_events", "sending", 80, None),
    ("b4", "warnings", "acked", 95, 94),
]
RECEIPTS = [("rc1", "b1", 2, 280), ("rc2", "b2", 0, 180), ("rc4", "b4", 1, 93)]
# Feedback: (feedback_id, dataset, record_id, reason, raised minutes ago, answered)
FEEDBACK = [
    ("f1", "hazard_events", "e1", f"坐标超出辖区 point outside the county: '{SECRET_TEXT}'", 250, False),
    ("f2", "hazard_events", "e2", "类别与描述不符 category does not match", 240, True),
    ("f3", "hazard_events", "e3", "类别与描述不符 category does not match", 150, False),
    ("f4", "resources", "r1", f"联系人电话 13800001234 无效 ({SECRET_PSEUDONYM})", 60, False),
]


def _ago(minutes: int | None) -> datetime | None:
    return None if minutes is None else NOW - timedelta(minutes=minutes)


def _write_platform_rows(settings: Settings) -> list[dict[str, Any]]:
    results = _results()
    with engine(settings).begin() as c:
        for run_id, started in RUNS.items():
            mine = [r for r in results if r["run_id"] == run_id]
            c.execute(
                sa.text(
                    "insert into audit.check_runs (run_id, started_at, finished_at, datasets, success, evaluated,"
                    " passed, failed_blocking, failed_warning) values (:r, :s, :f, :d, :ok, :e, :p, 0, 0)"
                ),
                {
                    "r": run_id,
                    "s": started,
                    "f": started + timedelta(minutes=5),
                    "d": list(DATASETS),
                    "ok": all(r["success"] for r in mine),
                    "e": len(mine),
                    "p": sum(r["success"] for r in mine),
                },
            )
        c.execute(
            sa.text(
                "insert into audit.expectation_results (run_id, dataset, suite, expectation_type, expectation_id,"
                " kwargs, column_name, dimension, dimension_zh, severity, success, unexpected_sample, checked_at)"
                " values (:run_id, :dataset, :dataset, 'expect_x', :dimension || '-' || :severity, '{}'::jsonb,"
                " 'id_number', :dimension, :dimension_zh, :severity, :success, cast(:sample as jsonb), now())"
            ),
            [{**r, "dimension_zh": DIMENSIONS[r["dimension"]]} for r in results],
        )
        for source, dataset, field, reason, replayed in QUARANTINE:
            c.execute(
                sa.text(
                    "insert into ops.quarantine (source, dataset, batch_id, locator, field, reason, record,"
                    " replayed_at) values (:s, :d, 'qb1', 'row 7', :f, :r, cast(:rec as jsonb), :rep)"
                ),
                {
                    "s": source,
                    "d": dataset,
                    "f": field,
                    "r": reason,
                    "rec": json.dumps({"id_number": SECRET_ID, "note": SECRET_TEXT}, ensure_ascii=False),
                    "rep": NOW if replayed else None,
                },
            )
        for batch_id, dataset, status, sent, acked in BATCHES:
            c.execute(
                sa.text(
                    "insert into sync.batches (batch_id, dataset, seq, body, body_sha256, records_sha256,"
                    " record_count, status, first_sent_at, acked_at) values (:b, :d, 1, :body, 'x', 'y', 1, :st,"
                    " :sent, :acked)"
                ),
                {
                    "b": batch_id,
                    "d": dataset,
                    "body": SECRET_TEXT.encode(),
                    "st": status,
                    "sent": _ago(sent),
                    "acked": _ago(acked),
                },
            )
        for dataset, record_id, version, status, batch_id, created in OUTBOX:
            c.execute(
                sa.text(
                    "insert into sync.outbox (dataset, record_id, version, op, data, content_sha256, created_at,"
                    " batch_id, status) values (:d, :r, :v, 'upsert', cast(:data as jsonb), 'h', :c, :b, :st)"
                ),
                {
                    "d": dataset,
                    "r": record_id,
                    "v": version,
                    "data": json.dumps({"owner_pseudonym": SECRET_PSEUDONYM}),
                    "c": _ago(created),
                    "b": batch_id,
                    "st": status,
                },
            )
        for receipt_id, batch_id, accepted, received in RECEIPTS:
            c.execute(
                sa.text(
                    "insert into sync.receipts (receipt_id, batch_id, accepted, rejected, received_at, via)"
                    " values (:r, :b, :a, '[]'::jsonb, :at, 'post')"
                ),
                {"r": receipt_id, "b": batch_id, "a": accepted, "at": _ago(received)},
            )
        for feedback_id, dataset, record_id, reason, raised, answered in FEEDBACK:
            c.execute(
                sa.text(
                    "insert into sync.feedback (feedback_id, dataset, record_id, reason, raised_at, doubted_version,"
                    " answered_version, answered_at) values (:f, :d, :r, :reason, :at, 1, :av, :aat)"
                ),
                {
                    "f": feedback_id,
                    "d": dataset,
                    "r": record_id,
                    "reason": reason,
                    "at": _ago(raised),
                    "av": 2 if answered else None,
                    "aat": NOW if answered else None,
                },
            )
    return results


def _expected_daily(results: list[dict[str, Any]]) -> dict[tuple[date, str, str], tuple[int, int, int, int]]:
    acc: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in results:
        key = (RUNS[r["run_id"]].astimezone(CST).date(), r["dataset"], r["dimension"])
        acc[key][0] += 1
        acc[key][1] += r["success"]
        acc[key][2] += not r["success"] and r["severity"] == "blocking"
        acc[key][3] += not r["success"] and r["severity"] == "warning"
    return {k: (v[0], v[1], v[2], v[3]) for k, v in acc.items()}


def _expected_status(results: list[dict[str, Any]]) -> dict[str, tuple[datetime, int, int, str]]:
    out = {}
    for dataset in DATASETS:
        latest = max((r for r in results if r["dataset"] == dataset), key=lambda r: RUNS[r["run_id"]])["run_id"]
        mine = [r for r in results if r["dataset"] == dataset and r["run_id"] == latest]
        blocked = any(not r["success"] and r["severity"] == "blocking" for r in mine)
        out[dataset] = (RUNS[latest], len(mine), sum(r["success"] for r in mine), "blocked" if blocked else "ok")
    return out


def _rows(c: sa.Connection, view: str) -> list[dict[str, Any]]:
    return [dict(r) for r in c.execute(sa.text(f"select * from marts.{view}")).mappings()]


def _denied(eng: sa.Engine, sql: str) -> bool:
    try:
        with eng.connect() as c:
            c.exec_driver_sql(sql)
    except DBAPIError as exc:
        assert getattr(exc.orig, "sqlstate", None) == "42501", exc  # insufficient_privilege
        return True
    return False


def test_reports_give_the_figures_and_only_they_reach_the_reader(settings: Settings) -> None:
    ensure_declared_raw_tables(settings)
    # Granted before the views exist: the default privileges cover what dbt creates later.
    reader_role.ensure_reader_role(settings)
    built = run_dbt(settings, ["build", "--select", "tag:platform"])
    assert {n.name for n in built.nodes if n.resource_type == "model"} == set(VIEWS)
    with engine(settings).connect() as c:
        kinds: dict[str, str] = dict(
            c.execute(
                sa.text("select table_name, table_type from information_schema.tables where table_schema = 'marts'")
            ).all()
        )
    assert {v: kinds.get(v) for v in VIEWS} == dict.fromkeys(VIEWS, "VIEW")

    results = _write_platform_rows(settings)
    reader = sa.create_engine(reader_role.reader_connection(settings).sqlalchemy_url(), poolclass=sa.pool.NullPool)
    try:
        # One transaction: now() is the same for the lag the view computes and the one derived here.
        with reader.begin() as c:
            now = c.execute(sa.text("select now()")).scalar_one()
            seen = {view: _rows(c, view) for view in VIEWS}
        for source in SOURCES:
            assert _denied(reader, f"select * from {source}")
    finally:
        reader.dispose()

    daily = {(r["check_date"], r["dataset"], r["dimension"]): r for r in seen["rpt_quality_daily"]}
    expected = _expected_daily(results)
    assert {date(2026, 12, 1), date(2026, 12, 2)} == {k[0] for k in expected}
    assert set(daily) == set(expected)
    for key, (evaluated, passed, blocking, warning) in expected.items():
        row = daily[key]
        assert (row["evaluated_count"], row["passed_count"]) == (evaluated, passed), key
        assert (row["failed_blocking_count"], row["failed_warning_count"]) == (blocking, warning), key
        assert float(row["pass_rate"]) == pytest.approx(passed / evaluated, abs=1e-4)
        assert row["dimension_zh"] == DIMENSIONS[key[2]]
        assert row["layer"] == key[1].split(".")[0]
        assert row["source"] == ({"raw.weather__observations": "weather", "raw.police__alarms": "police"}.get(key[1]))

    status = {r["dataset"]: r for r in seen["rpt_quality_dataset_status"]}
    expected_status = _expected_status(results)
    assert set(status) == set(expected_status)
    for dataset, (checked_at, evaluated, passed, verdict) in expected_status.items():
        row = status[dataset]
        assert (row["checked_at"], row["evaluated_count"], row["passed_count"]) == (checked_at, evaluated, passed)
        assert (row["status"], row["is_blocked"]) == (verdict, verdict == "blocked")
    assert {v for _, _, _, v in expected_status.values()} == {"ok", "blocked"}  # the data covers both

    quarantine = {(r["source"], r["dataset"], r["field"], r["reason"]): r for r in seen["rpt_quarantine_summary"]}
    assert set(quarantine) == {
        ("police", "alarms", "id_number", "expected an 18-character ID number: …"),
        ("police", "alarms", "division_code", "… is not a 12-digit division code of 海城市"),
        ("water", "river", "Z", "negative value … is impossible"),
        ("water", "river", "-", "required value is missing"),
    }
    id_rows = [q for q in QUARANTINE if q[2] == "id_number"]
    row = quarantine[("police", "alarms", "id_number", "expected an 18-character ID number: …")]
    assert (row["quarantined_count"], row["open_count"], row["replayed_count"]) == (
        len(id_rows),
        sum(not q[4] for q in id_rows),
        sum(q[4] for q in id_rows),
    )
    assert sum(r["quarantined_count"] for r in quarantine.values()) == len(QUARANTINE)

    exchange = {r["dataset"]: r for r in seen["rpt_exchange_status"]}
    assert set(exchange) == {d for d, *_ in OUTBOX} | {d for _, d, *_ in BATCHES} | {d for _, d, *_ in FEEDBACK}
    for dataset, row in exchange.items():
        outbox = [o for o in OUTBOX if o[0] == dataset]
        batches = [b for b in BATCHES if b[1] == dataset]
        receipts = [r for r in RECEIPTS if r[1] in {b[0] for b in batches}]
        states = Counter(o[3] for o in outbox)
        waiting = [o[5] for o in outbox if o[3] not in ("accepted", "rejected")]
        open_doubts = [f for f in FEEDBACK if f[1] == dataset and not f[5]]
        assert row["batch_count"] == len(batches)
        assert row["acked_batch_count"] == sum(b[2] == "acked" for b in batches)
        assert row["receipt_count"] == len(receipts)
        assert row["pending_count"] == sum(o[4] is None for o in outbox)
        assert row["in_flight_count"] == sum(o[4] is not None for o in outbox if o[3] not in ("accepted", "rejected"))
        assert (row["accepted_count"], row["rejected_count"]) == (states["accepted"], states["rejected"])
        assert row["last_sent_at"] == (max(_ago(b[3]) for b in batches) if batches else None)  # type: ignore[type-var]
        assert row["last_receipt_at"] == (max(_ago(r[3]) for r in receipts) if receipts else None)  # type: ignore[type-var]
        if waiting:
            lag = (now - _ago(max(waiting))).total_seconds() / 60  # type: ignore[operator]
            assert float(row["lag_minutes"]) == pytest.approx(lag, abs=0.051)
        else:
            assert row["lag_minutes"] is None
        assert row["doubted_open_count"] == len(open_doubts)
        assert row["oldest_open_doubt_at"] == (min(_ago(f[4]) for f in open_doubts) if open_doubts else None)  # type: ignore[type-var]

    doubts = {(r["dataset"], r["reason"]): r["open_count"] for r in seen["rpt_exchange_doubts_open"]}
    assert doubts == {
        ("hazard_events", "坐标超出辖区 point outside the county: …"): 1,
        ("hazard_events", "类别与描述不符 category does not match"): 1,
        ("resources", "联系人电话 … 无效 (…)"): 1,
    }

    # Nothing personal, no payload, no pseudonym key and no record key in anything the reader sees.
    everything = json.dumps(seen, default=str, ensure_ascii=False)
    for secret in (SECRET_ID, SECRET_PSEUDONYM, "110101", SECRET_TEXT, "13800001234", '"e1"', "row 7", "qb1"):
        assert secret not in everything, secret


def test_transform_on_an_empty_warehouse_builds_every_model(settings: Settings) -> None:
    # Before any ingest, check or sync: the platform's own tables are the migrations' (an installation
    # has them, empty), and the raw ones are made before dbt runs.
    with engine(settings).connect() as c:
        assert c.execute(sa.text("select to_regclass('sync.feedback')")).scalar() == "sync.feedback"
        assert c.execute(sa.text("select to_regclass('raw.weather__observations')")).scalar() is None
    assert transform(settings)["success"]
    with engine(settings).connect() as c:
        counts = {v: c.execute(sa.text(f"select count(*) from marts.{v}")).scalar() for v in VIEWS}
    assert counts == dict.fromkeys(VIEWS, 0)
