"""The city's state in SQLite: batches with receipts, kept records, feedback, nonces.

WAL mode with ``synchronous=FULL`` and one transaction per stored batch,
committed before the 200 is sent: a receipt the client has seen survives a
crash or restart of the stand-in.

Versioning: per (dataset, record_id) the highest version seen is kept. A change
with a version lower than or equal to the kept one is ignored but still counts
as accepted in the receipt (it was valid; the city just already has newer
data). A delete with a higher version marks the record deleted and keeps its
last data.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from standins.anshan.auth import NONCE_TTL_SECONDS
from standins.anshan.batches import Batch, RecordChange
from standins.common.timefmt import iso_cst, local_date

DB_NAME = "anshan.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id       TEXT PRIMARY KEY,
    dataset        TEXT NOT NULL,
    body_sha256    TEXT NOT NULL,
    records_sha256 TEXT NOT NULL,
    record_count   INTEGER NOT NULL,
    received_at    TEXT NOT NULL,
    received_date  TEXT NOT NULL,
    receipt        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS batches_by_day ON batches (dataset, received_date);
CREATE TABLE IF NOT EXISTS records (
    dataset    TEXT NOT NULL,
    record_id  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    op         TEXT NOT NULL,
    data       TEXT,
    batch_id   TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (dataset, record_id)
);
CREATE TABLE IF NOT EXISTS feedback (
    seq          INTEGER PRIMARY KEY,
    feedback_id  TEXT NOT NULL UNIQUE,
    dataset      TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    raised_at    TEXT NOT NULL,
    raised_epoch REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    nonce   TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class StoredBatch:
    receipt: dict[str, Any]
    body_sha256: str


@dataclass(frozen=True)
class Doubt:
    record_id: str
    reason: str


class ExchangeStore:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / DB_NAME
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        with self._lock:
            self._connection().executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        # Reopened lazily so the same app can be served again after a shutdown closed it.
        if self._conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=5000")
            self._conn = conn
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def remember_nonce(self, nonce: str, now: float) -> bool:
        with self._transaction() as conn:
            conn.execute("DELETE FROM nonces WHERE seen_at <= ?", (now - NONCE_TTL_SECONDS,))
            if conn.execute("SELECT 1 FROM nonces WHERE nonce = ?", (nonce,)).fetchone():
                return False
            conn.execute("INSERT INTO nonces (nonce, seen_at) VALUES (?, ?)", (nonce, now))
            return True

    def get_batch(self, batch_id: str) -> StoredBatch | None:
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT receipt, body_sha256 FROM batches WHERE batch_id = ?", (batch_id,))
                .fetchone()
            )
        return StoredBatch(json.loads(row["receipt"]), row["body_sha256"]) if row else None

    def store_batch(
        self,
        batch: Batch,
        body_sha256: str,
        receipt: dict[str, Any],
        changes: list[RecordChange],
        received_at: datetime,
        doubt: Callable[[RecordChange], str | None] | None = None,
    ) -> list[RecordChange]:
        """Store the batch and apply its changes in one transaction.

        Returns the changes that won (higher version than kept). ``doubt``, if
        given, maps a winning change to a feedback reason or ``None``.
        """
        applied: list[RecordChange] = []
        stamp = iso_cst(received_at)
        with self._transaction() as conn:
            for change in changes:
                kept = conn.execute(
                    "SELECT version, data FROM records WHERE dataset = ? AND record_id = ?",
                    (batch.dataset, change.record_id),
                ).fetchone()
                if kept is not None and kept["version"] >= change.version:
                    continue
                data = change.data
                if change.op == "delete":
                    data = json.loads(kept["data"]) if kept is not None and kept["data"] else None
                conn.execute(
                    "INSERT OR REPLACE INTO records (dataset, record_id, version, op, data, batch_id, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        batch.dataset,
                        change.record_id,
                        change.version,
                        change.op,
                        None if data is None else json.dumps(data, ensure_ascii=False, sort_keys=True),
                        batch.batch_id,
                        stamp,
                    ),
                )
                applied.append(change)
                reason = doubt(change) if doubt else None
                if reason:
                    self._insert_feedback(conn, batch.dataset, change.record_id, reason, received_at)
            conn.execute(
                "INSERT INTO batches (batch_id, dataset, body_sha256, records_sha256, record_count,"
                " received_at, received_date, receipt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    batch.batch_id,
                    batch.dataset,
                    body_sha256,
                    batch.records_sha256,
                    batch.record_count,
                    stamp,
                    local_date(received_at).isoformat(),
                    json.dumps(receipt, ensure_ascii=False),
                ),
            )
        return applied

    def reconciliation(self, dataset: str, day: date) -> dict[str, Any]:
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT records_sha256, record_count FROM batches WHERE dataset = ? AND received_date = ?",
                    (dataset, day.isoformat()),
                )
                .fetchall()
            )
        xor = 0
        for row in rows:
            xor ^= int(row["records_sha256"], 16)
        return {
            "dataset": dataset,
            "date": day.isoformat(),
            "batches": len(rows),
            "records": sum(row["record_count"] for row in rows),
            "records_sha256_xor": f"{xor:064x}",
        }

    def raise_feedback(self, dataset: str, record_id: str, reason: str, raised_at: datetime) -> dict[str, Any]:
        with self._transaction() as conn:
            return self._insert_feedback(conn, dataset, record_id, reason, raised_at)

    def _insert_feedback(
        self, conn: sqlite3.Connection, dataset: str, record_id: str, reason: str, raised_at: datetime
    ) -> dict[str, Any]:
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM feedback").fetchone()[0]
        item = {
            "feedback_id": f"FB-{local_date(raised_at):%Y%m%d}-{seq:06d}",
            "dataset": dataset,
            "record_id": record_id,
            "reason": reason,
            "raised_at": iso_cst(raised_at),
        }
        conn.execute(
            "INSERT INTO feedback (seq, feedback_id, dataset, record_id, reason, raised_at, raised_epoch)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (seq, item["feedback_id"], dataset, record_id, reason, item["raised_at"], raised_at.timestamp()),
        )
        return item

    def feedback_since(self, since: datetime) -> list[dict[str, Any]]:
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT feedback_id, dataset, record_id, reason, raised_at FROM feedback"
                    " WHERE raised_epoch >= ? ORDER BY raised_epoch, seq",
                    (since.timestamp(),),
                )
                .fetchall()
            )
        return [dict(row) for row in rows]

    def records(self, dataset: str | None) -> list[dict[str, Any]]:
        query = "SELECT dataset, record_id, version, op, data, batch_id, updated_at FROM records"
        params: tuple[str, ...] = ()
        if dataset:
            query += " WHERE dataset = ?"
            params = (dataset,)
        with self._lock:
            rows = self._connection().execute(query + " ORDER BY dataset, record_id", params).fetchall()
        return [
            {
                "dataset": row["dataset"],
                "record_id": row["record_id"],
                "version": row["version"],
                "op": row["op"],
                "deleted": row["op"] == "delete",
                "data": json.loads(row["data"]) if row["data"] else None,
                "batch_id": row["batch_id"],
                "updated_at": row["updated_at"],
            }
            for row in rows
        ]

    def counts(self) -> dict[str, int]:
        with self._lock:
            conn = self._connection()
            return {
                table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in ("batches", "records", "feedback")
            }
