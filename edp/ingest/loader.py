"""Lake → warehouse: one transaction per batch, idempotent by batch id.

In that one transaction: the batch's old rows (if any) are deleted, the
Parquet rows are COPYed (Arrow → CSV in C++, no Python row loop) into a
temp table, and what is new or changed moves into ``raw.<source>__<dataset>``
with lineage columns; its quarantined records are (re)written, the batch is
marked loaded and the dataset's cursor advances. A crash anywhere leaves
either all of it or none of it.

Raw keeps two indexes, chosen for the load's cost: a btree on
``(_row_key, _extracted_at)`` (a key's latest version, for the change
comparison; ``_row_key`` is a 64-bit hash of the key, so NULL key parts
match with ``=`` rather than ``is not distinct from``, and the index
compares integers, not collated text) and a BRIN on ``_extracted_at``
(what incremental models and a batch's own rows are found by, at almost
no cost to keep).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.schema import LINEAGE_COLUMNS, PG_TYPES, Dataset, Field
from edp.errors import EdpError
from edp.ingest.extract import Manifest, manifest_key
from edp.progress import Task, reporter
from edp.settings import Settings
from edp.storage import ops
from edp.storage.lake import Lake, open_lake
from edp.storage.migrate import require_current
from edp.storage.warehouse import engine

log = logging.getLogger(__name__)


class BatchIntegrityError(EdpError):
    """The lake's copy of a batch does not match its manifest."""


def dataset_from_manifest(m: Manifest) -> Dataset:
    fields = tuple(Field(c["name"], c["type"], c.get("required", False), c.get("pii", False)) for c in m.schema)
    extra = {"replace_by": m.replace_by} if m.replace_by else {}
    mode: Literal["incremental", "snapshot"] = "snapshot" if m.mode == "snapshot" else "incremental"
    return Dataset(m.source, m.dataset, m.dataset, fields, tuple(m.primary_key), mode=mode, extra=extra)


# Rows per Arrow record batch fed to COPY: what the load holds in memory at once.
LOAD_CHUNK_ROWS = 65_536


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _record_hash(columns: tuple[str, ...], alias: str = "") -> str:
    """A 64-bit hash of ``row(columns)``, NULL-safe: for ``_row_key`` and a snapshot's digest.

    ``hash_record_extended`` combines each field's own type hash (no text
    rendering, no dependence on session settings); hash partitioning relies
    on these staying the same across PostgreSQL versions. Two keys sharing a
    hash (one chance in 2^64) can only make a row compare as changed and be
    stored again, never be lost.
    """
    prefix = f"{alias}." if alias else ""
    return f"hash_record_extended(row({', '.join(f'{prefix}{q(c)}' for c in columns)}), 0)"


def row_key_sql(ds: Dataset) -> str:
    """The SQL of raw's ``_row_key`` for ``ds`` (its primary key's hash), for writers other than the loader."""
    return _record_hash(ds.primary_key)


def _index_exists(conn: Connection, name: str) -> bool:
    sql = "select 1 from pg_indexes where schemaname = 'raw' and indexname = :n"
    return conn.execute(sa.text(sql), {"n": name}).first() is not None


def ensure_raw_table(conn: Connection, ds: Dataset) -> None:
    """Make ``raw.<table>`` as ``ds`` declares it, or add what it declares since; under the dataset's lock.

    Raw tables follow the connectors' declarations and each batch's manifest, not a release: they are
    not the migrations' (docs/migrations.md).
    """
    cols = [f"{q(f.name)} {PG_TYPES[f.type]}" for f in ds.fields]
    cols += [f"{q(name)} {pg}" for name, pg in LINEAGE_COLUMNS]
    table = f"raw.{q(ds.table)}"
    existing: set[str] = set(
        conn.execute(
            sa.text("select column_name from information_schema.columns where table_schema='raw' and table_name=:t"),
            {"t": ds.table},
        ).scalars()
    )
    if not existing:  # the steady state issues no DDL at all: only a new table or a new column does
        conn.execute(sa.text(f"create table if not exists {table} ({', '.join(cols)})"))
        existing = {f.name for f in ds.fields} | {name for name, _ in LINEAGE_COLUMNS}
    # A column declared later (schema evolution) is added, never dropped.
    for f in ds.fields:
        if f.name not in existing:
            conn.execute(sa.text(f"alter table {table} add column {q(f.name)} {PG_TYPES[f.type]}"))
    if "_row_key" not in existing:  # a raw table from before _row_key: added and filled, once
        log.info("raw.%s: adding _row_key (once)", ds.table)
        conn.execute(sa.text(f"alter table {table} add column _row_key bigint"))
        conn.execute(sa.text(f"update {table} set _row_key = {_record_hash(ds.primary_key)}"))
    # Every index costs every load: the ones no query reads any more are dropped.
    for unused in (f"{ds.table}___batch_id", f"{ds.table}___row_hash", f"{ds.table}__key"):
        if _index_exists(conn, unused):
            conn.execute(sa.text(f"drop index raw.{q(unused)}"))
    # A key's versions by extraction time: the change comparison's only lookup.
    key_index = f"{ds.table}__row_key"
    if not _index_exists(conn, key_index):
        conn.execute(sa.text(f"create index {q(key_index)} on {table} (_row_key, _extracted_at)"))
    # BRIN: raw is appended in extraction order, so ranges of _extracted_at cost almost nothing to keep.
    brin = f"{ds.table}__extracted_at"
    if not _index_exists(conn, brin):
        # autosummarize: a filled range is summarised at once, not left for a scan to read whole.
        conn.execute(sa.text(f"create index {q(brin)} on {table} using brin (_extracted_at) with (autosummarize = on)"))


def _stage(conn: Connection, ds: Dataset, path: Path, chunks: int, progress: Task | None = None) -> int:
    """COPY the Parquet file into temp table ``_edp_load`` as CSV, one Arrow batch at a time."""
    names = [*ds.field_names, "_extra"]
    types = {f.name: PG_TYPES[f.type] for f in ds.fields} | {"_extra": "jsonb"}
    ordinal = ", _ord bigint generated always as identity" if chunks > 1 else ""
    columns = ", ".join(f"{q(n)} {types[n]}" for n in names)
    # Generated: COPY computes the key hash as it writes each row, with no second pass.
    row_key = f"_row_key bigint generated always as ({_record_hash(ds.primary_key)}) stored"
    conn.execute(sa.text(f"create temp table _edp_load ({columns}, {row_key}{ordinal}) on commit drop"))
    dbapi = conn.connection.driver_connection
    if not isinstance(dbapi, psycopg.Connection):  # COPY … FROM STDIN below is psycopg 3's API
        raise TypeError(f"the warehouse engine must use psycopg 3, not {type(dbapi).__name__}")
    parquet = pq.ParquetFile(path)
    present = set(parquet.schema_arrow.names)
    wanted = [n for n in names if n in present]
    options = pacsv.WriteOptions(include_header=False)
    landed = 0
    copy_sql = f"copy _edp_load ({', '.join(q(n) for n in wanted)}) from stdin with (format csv)"
    with dbapi.cursor() as cur, cur.copy(copy_sql) as copy:
        for batch in parquet.iter_batches(batch_size=LOAD_CHUNK_ROWS, columns=wanted):
            # Arrow renders the CSV in C++: strings quoted, NULL as an empty field, so COPY tells them apart.
            buf = io.BytesIO()
            pacsv.write_csv(_naive_utc(batch), buf, options)
            copy.write(buf.getbuffer())
            landed += batch.num_rows
            if progress is not None:  # per chunk of LOAD_CHUNK_ROWS rows, never per row
                progress.advance(rows=batch.num_rows)
    conn.execute(sa.text("analyze _edp_load"))
    return landed


def _naive_utc(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Zone-aware timestamps as naive UTC: Arrow renders those ten times faster, and the session is in UTC."""
    columns = [
        col.cast(pa.timestamp(col.type.unit)) if pa.types.is_timestamp(col.type) and col.type.tz else col
        for col in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _dedupe_staged(conn: Connection, ds: Dataset) -> None:
    """A batch written in several chunks may repeat a key across them: keep its newest row, as extraction does."""
    newest = "updated_at desc nulls last, _ord desc" if "updated_at" in ds.field_names else "_ord desc"
    conn.execute(
        sa.text(
            f"delete from _edp_load d using (select _ord, row_number() over (partition by _row_key order by {newest}) "
            "as n from _edp_load) ranked where d._ord = ranked._ord and ranked.n > 1"
        )
    )


def _snapshot_digest(conn: Connection, ds: Dataset) -> str | None:
    """An order-free digest of a snapshot's rows: equal digests, equal snapshots."""
    content = _record_hash(ds.field_names, "s")
    return conn.execute(
        sa.text(f"select md5(string_agg(h::text, ',' order by h)) from (select {content} as h from _edp_load s) x")
    ).scalar()


def _last_stored_digest(conn: Connection, m: Manifest) -> str | None:
    return conn.execute(
        sa.text(
            "select content_digest from ops.batches where source=:s and dataset=:d and status='loaded' "
            "and inserted_count > 0 and batch_id <> :b and extracted_at <= :e "
            "order by extracted_at desc, batch_id desc limit 1"
        ),
        {"s": m.source, "d": m.dataset, "b": m.batch_id, "e": datetime.fromisoformat(m.extracted_at)},
    ).scalar()


def _insert_new_versions(conn: Connection, ds: Dataset, m: Manifest, staged: int, only_changed: bool) -> int:
    """Move staged rows into raw: all of them, or (``only_changed``) those differing from their key's latest version.

    The latest version of each staged key is read through raw's
    ``(_row_key, _extracted_at)`` index (an equality probe on an integer, so
    the cost follows the batch, not raw's size; the quadratic loader matched
    keys with ``is not distinct from``, which no index serves). Versions are
    compared field by field (every declared field). A batch at least as large
    as raw (a first load, a backfill) drops the key index, compares by one
    hash join and builds the index again after the insert: building costs a
    fraction of maintaining it row by row.
    """
    table = f"raw.{q(ds.table)}"
    data = [*ds.field_names, "_extra"]
    empty = conn.execute(sa.text(f"select not exists (select 1 from {table})")).scalar()
    held = conn.execute(
        sa.text("select greatest(reltuples, 0) from pg_class where oid = cast(:t as regclass)"), {"t": table}
    )
    rebuild = bool(empty) or staged >= float(held.scalar() or 0)
    key_index = f"{ds.table}__row_key"
    if rebuild:
        conn.execute(sa.text(f"drop index if exists raw.{q(key_index)}"))
    changed = ""
    if only_changed and not empty:
        newest_first = "r._extracted_at desc, r._batch_id desc"
        if rebuild:
            # Raw is no larger than the batch and has no key index now: one hash join over both.
            latest = (
                f"select distinct on (r._row_key) r.* from {table} r "
                f"where r._row_key in (select k._row_key from _edp_load k) order by r._row_key, {newest_first}"
            )
        else:
            # One index probe per staged row (an integer key, newest version first): cost follows the batch.
            latest = (
                f"select v.* from _edp_load k cross join lateral (select r.* from {table} r "
                f"where r._row_key = k._row_key order by {newest_first} limit 1) v"
            )
        # Compared with the key's latest version only: A → B → A stores the final A again.
        changed = (
            f"where not exists (select 1 from ({latest}) l where l._row_key = s._row_key "
            f"and row({', '.join(f'l.{q(f)}' for f in ds.field_names)}) is not distinct from "
            f"row({', '.join(f's.{q(f)}' for f in ds.field_names)}))"
        )
    columns = ", ".join(q(n) for n in [*data, "_batch_id", "_extracted_at", "_source", "_row_key"])
    values = ", ".join([*(f"s.{q(n)}" for n in data), ":b", ":e", ":src", "s._row_key"])
    inserted = conn.execute(
        sa.text(f"insert into {table} ({columns}) select {values} from _edp_load s {changed}"),
        {"b": m.batch_id, "e": datetime.fromisoformat(m.extracted_at), "src": m.source},
    ).rowcount
    if rebuild:
        conn.execute(sa.text(f"create index {q(key_index)} on {table} (_row_key, _extracted_at)"))
    return inserted


def _copy_rows(
    conn: Connection, ds: Dataset, m: Manifest, path: Path, progress: Task | None = None
) -> tuple[int, int, str | None]:
    """Stage the batch, then move what is new into raw. Returns (landed, inserted, snapshot digest).

    Incremental datasets: a row whose content (every declared field) equals
    its key's latest version in raw is not stored again, so re-reading a
    lookback window adds nothing twice while a corrected row is kept as a new
    version. Snapshot datasets: a snapshot identical to the last one stored
    adds nothing (its batch confirms the stored one is still valid); a changed
    one is stored whole, so the latest stored batch is always the current
    state. ``replace_by``: rows of raw sharing a value of that field with the
    batch are deleted first (a re-sent day replaces the day).
    """
    landed = _stage(conn, ds, path, m.chunks, progress)
    if progress is not None:
        progress.note("comparing with raw 比对入库")
    if m.chunks > 1:
        _dedupe_staged(conn, ds)
    replace_by = ds.extra.get("replace_by")
    if replace_by:
        conn.execute(
            sa.text(
                f"delete from raw.{q(ds.table)} r where r.{q(replace_by)} in "
                f"(select distinct s.{q(replace_by)} from _edp_load s)"
            )
        )
        return landed, _insert_new_versions(conn, ds, m, landed, only_changed=False), None
    if ds.mode == "snapshot":
        digest = _snapshot_digest(conn, ds)
        if digest is not None and digest == _last_stored_digest(conn, m):
            return landed, 0, digest
        return landed, _insert_new_versions(conn, ds, m, landed, only_changed=False), digest
    return landed, _insert_new_versions(conn, ds, m, landed, only_changed=True), None


def _write_quarantine(conn: Connection, m: Manifest, lake: Lake) -> int:
    conn.execute(sa.text("delete from ops.quarantine where batch_id=:b and replayed_at is null"), {"b": m.batch_id})
    if not m.quarantine_key:
        return 0
    entries = [json.loads(line) for line in lake.get_bytes(m.quarantine_key).decode("utf-8").splitlines() if line]
    # A record re-read on a later run (a lookback, rows without TM) that is still open in quarantine with the
    # same field and reason is not entered again: one open entry per bad record.
    conn.execute(
        sa.text(
            """
            insert into ops.quarantine (source, dataset, batch_id, locator, field, reason, record)
            select :source, :dataset, :batch_id, :locator, :field, :reason, cast(:record as jsonb)
            where not exists (
                select 1 from ops.quarantine q
                where q.source = :source and q.dataset = :dataset and q.replayed_at is null
                  and q.batch_id <> :batch_id and q.field is not distinct from cast(:field as text)
                  and q.reason = :reason and q.record = cast(:record as jsonb)
            )
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
                "record": json.dumps(jsonb_safe(e["record"]), ensure_ascii=False, default=str),
            }
            for e in entries
        ],
    )
    return len(entries)


def jsonb_safe(value: Any) -> Any:
    """A quarantined record as jsonb can hold it: NaN/Infinity as their names, a NUL or a lone surrogate as
    the text of its escape (``\\u0000``).

    The record is kept for the operator to read and replay; a value PostgreSQL refuses would fail the
    whole load instead of quarantining the one record (replaying it refuses it again, with the same reason).
    """
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        # A lone surrogate becomes its escape's text too (UTF-8 cannot carry it).
        return value.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {jsonb_safe(str(k)): jsonb_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonb_safe(v) for v in value]
    return value


def _verify(path: Path, m: Manifest) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != m.parquet_sha256:
        raise BatchIntegrityError(f"{m.parquet_key}: sha256 differs from manifest {m.key}; batch not loaded")


def load_batch(
    settings: Settings, m: Manifest, lake: Lake | None = None, *, only_pending: bool = False
) -> dict[str, Any]:
    """Load (or, already loaded, reload) batch ``m``; ``only_pending``: leave a batch another run loaded meanwhile."""
    lake = lake or open_lake(settings)
    ds = dataset_from_manifest(m)
    with reporter().task(f"{m.source}.{m.dataset} load 入库", total=m.row_count or None) as progress:
        result = _load_batch(settings, m, ds, lake, progress, only_pending=only_pending)
        progress.note(
            f"{result['rows']:,} new, {result['unchanged']:,} unchanged, {result['quarantined']:,} quarantined"
        )
    return result


def _load_batch(
    settings: Settings, m: Manifest, ds: Dataset, lake: Lake, progress: Task, *, only_pending: bool
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        path = stack.enter_context(lake.local_copy(m.parquet_key)) if m.parquet_key else None
        if path is not None:
            _verify(path, m)
        with engine(settings).begin() as conn:
            # Serialise loads of one table so a replayed and a fresh load never interleave.
            conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:t))"), {"t": ds.table})
            # The CSV carries timestamps as naive UTC.
            conn.execute(sa.text("set local timezone to 'UTC'"))
            conn.execute(sa.text("set local work_mem to '128MB'"))
            # JIT compiles for a second or more: more than a typical batch's whole insert.
            conn.execute(sa.text("set local jit to off"))
            ensure_raw_table(conn, ds)
            loaded_before = conn.execute(
                sa.text("select status = 'loaded' from ops.batches where batch_id = :b"), {"b": m.batch_id}
            ).scalar()
            if loaded_before and only_pending:  # a concurrent `edp load`/ingest took it while this one waited
                log.info("%s: loaded meanwhile by another run", m.batch_id)
                return {"batch_id": m.batch_id, "table": f"raw.{ds.table}", "rows": 0, "unchanged": 0, "quarantined": 0}
            if loaded_before:  # a reload replaces the batch's rows; BRIN finds them by their extraction time
                conn.execute(
                    sa.text(f"delete from raw.{q(ds.table)} where _extracted_at = :e and _batch_id = :b"),
                    {"b": m.batch_id, "e": datetime.fromisoformat(m.extracted_at)},
                )
            landed, rows, digest = _copy_rows(conn, ds, m, path, progress) if path else (0, 0, None)
            quarantined = _write_quarantine(conn, m, lake)
            conn.execute(
                sa.text(
                    "update ops.batches set status='loaded', loaded_at=now(), row_count=:landed, inserted_count=:r, "
                    "unchanged_count=:u, quarantined_count=:q, content_digest=:digest, error=null "
                    "where batch_id=:b"
                ),
                {
                    "landed": landed,
                    "r": rows,
                    "u": landed - rows,
                    "q": quarantined,
                    "digest": digest,
                    "b": m.batch_id,
                },
            )
            if m.cursor_to and m.origin == "extract":
                ops.advance_cursor(conn, m.source, m.dataset, m.cursor_to, m.batch_id)
            progress.advance(batches=1)
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
    """Create every declared raw table, so dbt builds even before a source first delivers.

    Every registered source's, configured or not: its dbt staging models exist either way (a source
    ``edp sources new`` made is registered before ``sources.yml`` configures it).

    The platform's own tables the dbt sources also declare (``ops``, ``audit``, ``sync``) are the
    migrations' (``edp migrate``); here the warehouse only has to be at their version. Each raw table
    is made under its dataset's lock, the one every load of it takes.
    """
    from connectors.registry import SOURCES
    from edp.ingest.sources import declared_datasets

    require_current(settings)
    tables = []
    with engine(settings).begin() as conn:
        for source in SOURCES:
            for ds in declared_datasets(source).values():
                conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:t))"), {"t": ds.table})
                ensure_raw_table(conn, ds)
                tables.append(f"raw.{ds.table}")
    return tables


def load_pending(settings: Settings, source: str | None = None) -> list[dict[str, Any]]:
    """Load every batch that is in the lake but not yet in the warehouse."""
    require_current(settings)
    lake = open_lake(settings)
    results = []
    for b in ops.batches(settings, status="extracted", source=source):
        m = Manifest.from_json(lake.get_bytes(b["manifest_key"]))
        try:
            results.append(load_batch(settings, m, lake, only_pending=True))
        except Exception as exc:
            ops.record_failure(settings, m.batch_id, f"{type(exc).__name__}: {exc}", datetime.now(UTC))
            raise
    return results


def reload_batch(settings: Settings, source: str, dataset: str, batch_id: str) -> dict[str, Any]:
    """Load a batch again from the lake; its earlier rows are replaced."""
    lake = open_lake(settings)
    m = Manifest.from_json(lake.get_bytes(manifest_key(source, dataset, batch_id)))
    return load_batch(settings, m, lake)
