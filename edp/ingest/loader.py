"""Lake → warehouse: one transaction per batch, idempotent by batch id.

In that one transaction: the batch's old rows (if any) are deleted, the
Parquet rows are COPYed into ``raw.<source>__<dataset>`` with lineage
columns, its quarantined records are (re)written, the batch is marked
loaded and the dataset's cursor advances. A crash anywhere leaves either
all of it or none of it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.schema import LINEAGE_COLUMNS, PG_TYPES, Dataset, Field
from edp.errors import EdpError
from edp.ingest.extract import Manifest, manifest_key
from edp.settings import Settings
from edp.storage import ops
from edp.storage.lake import Lake, open_lake
from edp.storage.warehouse import engine

log = logging.getLogger(__name__)


class BatchIntegrityError(EdpError):
    """The lake's copy of a batch does not match its manifest."""


def dataset_from_manifest(m: Manifest) -> Dataset:
    fields = tuple(Field(c["name"], c["type"], c.get("required", False), c.get("pii", False)) for c in m.schema)
    extra = {"replace_by": m.replace_by} if m.replace_by else {}
    mode: Literal["incremental", "snapshot"] = "snapshot" if m.mode == "snapshot" else "incremental"
    return Dataset(m.source, m.dataset, m.dataset, fields, tuple(m.primary_key), mode=mode, extra=extra)


def ensure_raw_table(conn: Connection, ds: Dataset) -> None:
    cols = [f'"{f.name}" {PG_TYPES[f.type]}' for f in ds.fields]
    cols += [f'"{name}" {pg}' for name, pg in LINEAGE_COLUMNS]
    conn.execute(sa.text(f'create table if not exists raw."{ds.table}" ({", ".join(cols)})'))
    # A column declared later (schema evolution) is added, never dropped.
    existing = {
        r[0]
        for r in conn.execute(
            sa.text("select column_name from information_schema.columns where table_schema='raw' and table_name=:t"),
            {"t": ds.table},
        )
    }
    for f in ds.fields:
        if f.name not in existing:
            conn.execute(sa.text(f'alter table raw."{ds.table}" add column "{f.name}" {PG_TYPES[f.type]}'))
    for col in ("_batch_id", "_row_hash"):
        conn.execute(sa.text(f'create index if not exists "{ds.table}__{col}" on raw."{ds.table}" ({col})'))
    key_cols = ", ".join(f'"{k}"' for k in ds.primary_key)
    conn.execute(
        sa.text(f'create index if not exists "{ds.table}__key" on raw."{ds.table}" ({key_cols}, _extracted_at)')
    )


def _copy_rows(conn: Connection, ds: Dataset, m: Manifest, data: bytes) -> tuple[int, int]:
    """COPY the batch into a staging temp table, then move it into raw.

    Incremental datasets: a row whose content (every declared field) is already
    in raw under the same key is not stored again, so re-reading a lookback
    window adds nothing twice while a corrected row is kept as a new version.
    Snapshot datasets: every batch is stored whole (the history of snapshots).
    ``replace_by``: rows of raw sharing a value of that field with the batch
    are deleted first (a re-sent day replaces the day).
    """
    table = pq.read_table(io.BytesIO(data))
    names = [f.name for f in ds.fields] + ["_extra"]
    lineage = (m.batch_id, datetime.fromisoformat(m.extracted_at), m.source)
    load_cols = [*names, "_batch_id", "_extracted_at", "_source"]
    conn.execute(sa.text(f'create temp table _edp_load (like raw."{ds.table}") on commit drop'))
    dbapi = conn.connection.driver_connection
    if not isinstance(dbapi, psycopg.Connection):  # COPY … FROM STDIN below is psycopg 3's API
        raise TypeError(f"the warehouse engine must use psycopg 3, not {type(dbapi).__name__}")
    copy_cols = ", ".join(f'"{n}"' for n in load_cols)
    with dbapi.cursor() as cur, cur.copy(f"copy _edp_load ({copy_cols}) from stdin") as copy:
        for row in table.select(names).to_pylist():
            copy.write_row([*(row[n] for n in names), *lineage])
    content = ", ".join(f's."{f.name}"' for f in ds.fields)
    conn.execute(sa.text(f"update _edp_load s set _row_hash = md5(row({content})::text)"))
    select_cols = ", ".join(f's."{n}"' for n in load_cols)
    replace_by = ds.extra.get("replace_by")
    if replace_by:
        conn.execute(
            sa.text(
                f'delete from raw."{ds.table}" r where r."{replace_by}" in '
                f'(select distinct s."{replace_by}" from _edp_load s)'
            )
        )
    key_match = " and ".join(f'r."{k}" is not distinct from s."{k}"' for k in ds.primary_key)
    if ds.mode == "incremental" and not replace_by:
        # Compared with the key's latest version only: A → B → A stores the final A again.
        changed = (
            "left join lateral (select r._row_hash from raw."
            f'"{ds.table}" r where {key_match} order by r._extracted_at desc, r._batch_id desc limit 1) latest '
            "on true where latest._row_hash is distinct from s._row_hash"
        )
    else:
        changed = ""
    inserted = conn.execute(
        sa.text(
            f'insert into raw."{ds.table}" ({copy_cols}, _row_hash) '
            f"select {select_cols}, s._row_hash from _edp_load s {changed}"
        )
    ).rowcount
    return table.num_rows, inserted


def _write_quarantine(conn: Connection, m: Manifest, lake: Lake) -> int:
    conn.execute(sa.text("delete from ops.quarantine where batch_id=:b and replayed_at is null"), {"b": m.batch_id})
    if not m.quarantine_key:
        return 0
    entries = [json.loads(line) for line in lake.get_bytes(m.quarantine_key).decode("utf-8").splitlines() if line]
    conn.execute(
        sa.text(
            """
            insert into ops.quarantine (source, dataset, batch_id, locator, field, reason, record)
            values (:source, :dataset, :batch_id, :locator, :field, :reason, cast(:record as jsonb))
            """
        ),
        [
            {
                "source": m.source,
                "dataset": m.dataset,
                "batch_id": m.batch_id,
                "locator": e["locator"],
                "field": e.get("field"),
                "reason": e["reason"],
                "record": json.dumps(e["record"], ensure_ascii=False, default=str),
            }
            for e in entries
        ],
    )
    return len(entries)


def _read_parquet(lake: Lake, m: Manifest) -> bytes | None:
    if not m.parquet_key:
        return None
    data = lake.get_bytes(m.parquet_key)
    if hashlib.sha256(data).hexdigest() != m.parquet_sha256:
        raise BatchIntegrityError(f"{m.parquet_key}: sha256 differs from manifest {m.key}; batch not loaded")
    return data


def load_batch(settings: Settings, m: Manifest, lake: Lake | None = None) -> dict[str, Any]:
    lake = lake or open_lake(settings)
    ds = dataset_from_manifest(m)
    data = _read_parquet(lake, m)
    with engine(settings).begin() as conn:
        # Serialise loads of one table so a replayed and a fresh load never interleave.
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:t))"), {"t": ds.table})
        ensure_raw_table(conn, ds)
        conn.execute(sa.text(f'delete from raw."{ds.table}" where _batch_id=:b'), {"b": m.batch_id})
        landed, rows = _copy_rows(conn, ds, m, data) if data else (0, 0)
        quarantined = _write_quarantine(conn, m, lake)
        conn.execute(
            sa.text(
                "update ops.batches set status='loaded', loaded_at=now(), row_count=:landed, inserted_count=:r, "
                "unchanged_count=:u, quarantined_count=:q, error=null where batch_id=:b"
            ),
            {"landed": landed, "r": rows, "u": landed - rows, "q": quarantined, "b": m.batch_id},
        )
        if m.cursor_to and m.origin == "extract":
            ops.advance_cursor(conn, m.source, m.dataset, m.cursor_to, m.batch_id)
    log.info(
        "%s: %d new rows into raw.%s (%d unchanged), %d quarantined",
        m.batch_id,
        rows,
        ds.table,
        landed - rows,
        quarantined,
    )
    return {
        "batch_id": m.batch_id,
        "table": f"raw.{ds.table}",
        "rows": rows,
        "unchanged": landed - rows,
        "quarantined": quarantined,
    }


def ensure_declared_raw_tables(settings: Settings) -> list[str]:
    """Create every declared raw table, so dbt builds even before a source first delivers."""
    from edp.ingest.sources import configured_sources, declared_datasets

    ops.ensure_ops(settings)
    tables = []
    with engine(settings).begin() as conn:
        for source in configured_sources(settings):
            for ds in declared_datasets(source).values():
                conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:t))"), {"t": ds.table})
                ensure_raw_table(conn, ds)
                tables.append(f"raw.{ds.table}")
    return tables


def load_pending(settings: Settings, source: str | None = None) -> list[dict[str, Any]]:
    """Load every batch that is in the lake but not yet in the warehouse."""
    ops.ensure_ops(settings)
    lake = open_lake(settings)
    results = []
    for b in ops.batches(settings, status="extracted", source=source):
        m = Manifest.from_json(lake.get_bytes(b["manifest_key"]))
        try:
            results.append(load_batch(settings, m, lake))
        except Exception as exc:
            ops.record_failure(settings, m.batch_id, f"{type(exc).__name__}: {exc}", datetime.now(UTC))
            raise
    return results


def reload_batch(settings: Settings, source: str, dataset: str, batch_id: str) -> dict[str, Any]:
    """Load a batch again from the lake; its earlier rows are replaced."""
    lake = open_lake(settings)
    m = Manifest.from_json(lake.get_bytes(manifest_key(source, dataset, batch_id)))
    return load_batch(settings, m, lake)
