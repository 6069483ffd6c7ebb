"""Operational tables in schema ``ops``: batches, cursor state, quarantine.

Their DDL lives in the migrations (``edp/storage/migrations/0002_ops_batches.sql``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.schema import parse_time
from edp.settings import Settings
from edp.storage.warehouse import engine


def get_cursor(settings: Settings, source: str, dataset: str) -> str | None:
    with engine(settings).connect() as c:
        return c.execute(
            sa.text("select cursor from ops.source_state where source=:s and dataset=:d"),
            {"s": source, "d": dataset},
        ).scalar()


def advance_cursor(conn: Connection, source: str, dataset: str, cursor: str, batch_id: str) -> None:
    """Move the cursor forward (never back) inside the caller's load transaction."""
    current = conn.execute(
        sa.text("select cursor from ops.source_state where source=:s and dataset=:d for update"),
        {"s": source, "d": dataset},
    ).scalar()
    if current and _later_or_equal(current, cursor):
        return
    conn.execute(
        sa.text(
            """
            insert into ops.source_state (source, dataset, cursor, batch_id, updated_at)
            values (:s, :d, :c, :b, now())
            on conflict (source, dataset) do update
            set cursor = excluded.cursor, batch_id = excluded.batch_id, updated_at = now()
            """
        ),
        {"s": source, "d": dataset, "c": cursor, "b": batch_id},
    )


def _later_or_equal(a: str, b: str) -> bool:
    try:
        return parse_time(a) >= parse_time(b)
    except ValueError:
        return a >= b


def batches(settings: Settings, status: str | None = None, source: str | None = None) -> list[dict]:
    sql = (
        "select * from ops.batches where (cast(:st as text) is null or status=:st) "
        "and (cast(:src as text) is null or source=:src)"
    )
    with engine(settings).connect() as c:
        rows = c.execute(sa.text(sql + " order by extracted_at, batch_id"), {"st": status, "src": source})
        return [dict(r._mapping) for r in rows]


def record_failure(settings: Settings, batch_id: str, error: str, when: datetime) -> None:
    with engine(settings).begin() as c:
        c.execute(
            sa.text("update ops.batches set error=:e where batch_id=:b and status <> 'loaded'"),
            {"e": f"{when.isoformat()} {error}"[:2000], "b": batch_id},
        )
