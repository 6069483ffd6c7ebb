"""What is in each layer: the figures the demo and `edp status` print."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from edp.settings import Settings
from edp.storage.warehouse import engine


def _tables(conn: sa.Connection, schema: str) -> list[str]:
    rows = conn.execute(
        sa.text("select table_name from information_schema.tables where table_schema=:s order by 1"), {"s": schema}
    )
    return [r[0] for r in rows]


def _count(conn: sa.Connection, sql: str) -> Any:
    try:
        with conn.begin_nested():
            return conn.execute(sa.text(sql)).scalar()
    except sa.exc.DBAPIError:
        return None


def collect(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {"warehouse": {}, "quarantine": None, "quality": None, "sync": None}
    with engine(settings).connect() as conn:
        for schema in ("raw", "staging", "intermediate", "marts"):
            out["warehouse"][schema] = {
                t: _count(conn, f'select count(*) from "{schema}"."{t}"') for t in _tables(conn, schema)
            }
        out["quarantine"] = _count(conn, "select count(*) from ops.quarantine where replayed_at is null")
        out["batches_loaded"] = _count(conn, "select count(*) from ops.batches where status='loaded'")
        out["open_alerts"] = _count(conn, "select count(*) from ops.alerts where resolved_at is null")
        out["quality"] = {
            "last_run": _count(conn, "select max(run_id) from audit.check_runs"),
            "pass_rate_last_run": _count(
                conn,
                "select round(avg(case when success then 1.0 else 0.0 end), 4) from audit.expectation_results "
                "where run_id = (select run_id from audit.check_runs order by started_at desc limit 1)",
            ),
        }
        out["sync"] = {
            "batches": _count(conn, "select count(*) from sync.batches"),
            "receipts": _count(conn, "select count(*) from sync.receipts"),
            "records_accepted": _count(conn, "select count(*) from sync.outbox where status='accepted'"),
            "records_pending": _count(conn, "select count(*) from sync.outbox where batch_id is null"),
        }
        conn.rollback()
    return out
