"""Operational tables in schema ``ops``: batches, cursor state, quarantine."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.schema import parse_time
from edp.settings import Settings
from edp.storage.warehouse import apply_ddl, engine, ensure_schemas

DDL = (
    """
    create table if not exists ops.batches (
        batch_id text primary key,
        source text not null,
        dataset text not null,
        origin text not null default 'extract',
        status text not null,
        source_rows bigint,
        row_count bigint,
        inserted_count bigint,
        unchanged_count bigint,
        quarantined_count bigint,
        duplicate_count bigint,
        cursor_from text,
        cursor_to text,
        manifest_key text not null,
        schema_drift jsonb,
        extracted_at timestamptz not null,
        loaded_at timestamptz,
        error text
    )
    """,
    """
    create table if not exists ops.source_state (
        source text not null,
        dataset text not null,
        cursor text,
        batch_id text,
        updated_at timestamptz not null default now(),
        primary key (source, dataset)
    )
    """,
    """
    create table if not exists ops.quarantine (
        quarantine_id bigserial primary key,
        source text not null,
        dataset text not null,
        batch_id text not null,
        locator text not null,
        field text,
        reason text not null,
        record jsonb not null,
        quarantined_at timestamptz not null default now(),
        replayed_at timestamptz,
        replay_batch_id text
    )
    """,
    # The digest of a loaded snapshot's rows: an identical snapshot later is not stored again. Checked
    # first: ALTER would take an exclusive lock on every call, queueing behind a long load.
    """
    do $$ begin
        if not exists (select 1 from information_schema.columns
                       where table_schema = 'ops' and table_name = 'batches' and column_name = 'content_digest') then
            alter table ops.batches add column content_digest text;
        end if;
    end $$
    """,
    "create index if not exists quarantine_open on ops.quarantine (source, dataset) where replayed_at is null",
)


def ensure_ops(settings: Settings) -> None:
    ensure_schemas(settings)
    apply_ddl(settings, DDL, lock=2103810001)


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
