"""Source → lake: land original bytes, type records, quarantine, Parquet, manifest.

A batch is complete in the lake once its manifest is written (last), and is
then registered in ``ops.batches`` as ``extracted``. The cursor does not move
here: it moves in the load transaction (``edp.ingest.loader``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from connectors.base import Page, Source
from connectors.files import REFUSED
from connectors.http import SourceRejected, SourceUnavailable
from connectors.schema import Dataset, FieldError, type_record
from edp.errors import DataRejected, EdpError
from edp.ingest.sources import build_source
from edp.progress import reporter
from edp.settings import Settings
from edp.storage import ops
from edp.storage.lake import Lake, open_lake
from edp.storage.migrate import require_current
from edp.storage.warehouse import advisory_lock, engine

log = logging.getLogger(__name__)


class SchemaDriftError(DataRejected):
    """A required column disappeared from the source: the dataset stops."""


@dataclass
class Manifest:
    batch_id: str
    source: str
    dataset: str
    origin: str
    extracted_at: str
    cursor_from: str | None
    cursor_to: str | None
    source_rows: int
    row_count: int
    quarantined_count: int
    duplicate_count: int
    parquet_key: str | None
    parquet_sha256: str | None
    quarantine_key: str | None
    landing_keys: list[str]
    schema: list[dict[str, Any]]
    primary_key: list[str]
    schema_drift: dict[str, list[str]] = field(default_factory=dict)
    mode: str = "incremental"
    # A field whose values this batch replaces wholesale in raw (e.g. a re-sent day).
    replace_by: str | None = None
    # Parquet written in this many pieces, each free of repeated keys; more than one: the loader dedupes across them.
    chunks: int = 1

    @property
    def key(self) -> str:
        return manifest_key(self.source, self.dataset, self.batch_id)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        return cls(**json.loads(data))


def manifest_key(source: str, dataset: str, batch_id: str) -> str:
    return f"manifests/{source}/{dataset}/{batch_id}.json"


def make_batch_id(source: str, dataset: str, at: datetime, salt: str) -> str:
    digest = hashlib.sha256(f"{source}|{dataset}|{at.isoformat()}|{salt}".encode()).hexdigest()[:8]
    return f"{source}.{dataset}.{at.strftime('%Y%m%dT%H%M%SZ')}.{digest}"


# Typed rows held in memory before they are written to the batch's Parquet file as one chunk.
EXTRACT_CHUNK_ROWS = 50_000


class _ParquetSpool:
    """The batch's Parquet file, written chunk by chunk in a private temp folder."""

    def __init__(self, ds: Dataset) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="edp-batch-")
        self.path = Path(self._folder.name) / f"{ds.table}.parquet"
        self.schema = ds.arrow_schema()
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0
        self.chunks = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        table = pa.Table.from_pydict({n: [r.get(n) for r in rows] for n in self.schema.names}, schema=self.schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += len(rows)
        self.chunks += 1

    def finish(self) -> str | None:
        """Close the file; its sha256, or None when no row was written."""
        if self._writer is None:
            return None
        self._writer.close()
        self._writer = None
        digest = hashlib.sha256()
        with open(self.path, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
        return digest.hexdigest()

    def cleanup(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._folder.cleanup()


@dataclass
class _Typed:
    """A batch being typed: rows unique by key within the chunk in memory, the earlier chunks on disk."""

    rows: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    source_rows: int = 0
    duplicates: int = 0
    new_columns: set[str] = field(default_factory=set)
    spool: _ParquetSpool | None = None

    def flush(self, ds: Dataset) -> None:
        """Write the rows in memory to the batch's Parquet file as one chunk."""
        if not self.rows:
            return
        if self.spool is None:
            self.spool = _ParquetSpool(ds)
        self.spool.write(list(self.rows.values()))
        self.rows.clear()

    def flush_if_full(self, ds: Dataset) -> None:
        if len(self.rows) >= EXTRACT_CHUNK_ROWS:
            self.flush(ds)


def _check_drift(ds: Dataset, page: Page, typed: _Typed) -> None:
    if not page.records:
        return
    seen: set[str] = set()
    objects = 0
    for record in page.records:
        # A refused file's record holds no columns of the source: it says nothing about drift.
        if isinstance(record, dict) and REFUSED not in record:
            seen.update(record.keys())
            objects += 1
    if not objects:
        return  # no object to judge the columns by: each non-object is quarantined on its own
    missing = [f.name for f in ds.fields if f.required and f.name not in seen]
    if missing:
        raise SchemaDriftError(
            f"{ds.source}.{ds.name}: required column(s) {', '.join(missing)} missing from every record of "
            f"{page.locator}; the dataset stops until the source or the declaration is fixed"
        )
    typed.new_columns.update(seen - set(ds.field_names))


def _newer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Is row ``a`` a newer version than ``b`` (by updated_at when the dataset has it)?"""
    ua, ub = a.get("updated_at"), b.get("updated_at")
    if ua is not None and ub is not None:
        return bool(ua >= ub)
    return True


def type_page(src: Source, ds: Dataset, page: Page, landing_key: str, typed: _Typed) -> None:
    """Type each record; a bad one is quarantined with its reason, never dropped."""
    _check_drift(ds, page, typed)
    for index, record in enumerate(page.records):
        typed.source_rows += 1
        locator = f"{landing_key} record {index}"
        if not isinstance(record, dict):
            typed.quarantined.append(_quarantine_entry(locator, None, "record is not an object", record, index))
            continue
        refused = record.get(REFUSED)
        if isinstance(refused, dict):
            # A file refused whole (connectors.files): one entry named after the file, never typed.
            where = str(refused.get("locator") or locator)
            entry = _quarantine_entry(where, refused.get("field"), str(refused.get("reason")), record, index)
            typed.quarantined.append(entry)
            continue
        try:
            row = type_record(ds, src.normalise(ds.name, record))
        except FieldError as exc:
            typed.quarantined.append(_quarantine_entry(locator, exc.field_name, exc.reason, record, index))
            continue
        key = tuple(row[k] for k in ds.primary_key)
        if key in typed.rows:
            typed.duplicates += 1
            if not _newer(row, typed.rows[key]):
                continue
        typed.rows[key] = row


def _quarantine_entry(
    locator: str, field_name: str | None, reason: str, record: Any, index: int | None = None
) -> dict[str, Any]:
    # index: the record's place in its page (replay maps entries back to quarantine ids by it).
    return {"locator": locator, "field": field_name, "reason": reason, "record": record, "index": index}


def write_batch(
    lake: Lake,
    ds: Dataset,
    batch_id: str,
    extracted_at: datetime,
    typed: _Typed,
    *,
    origin: str,
    cursor_from: str | None,
    cursor_to: str | None,
    landing_keys: list[str],
) -> Manifest:
    day = extracted_at.strftime("%Y-%m-%d")
    typed.flush(ds)
    spool = typed.spool
    parquet_key = sha = None
    try:
        if spool is not None and (sha := spool.finish()) is not None:
            parquet_key = f"normalised/{ds.source}/{ds.name}/{day}/{batch_id}.parquet"
            lake.put_file(parquet_key, spool.path)
    finally:
        if spool is not None:
            spool.cleanup()
        typed.spool = None
    row_count, chunks = (spool.rows, spool.chunks) if spool is not None else (0, 0)
    quarantine_key = None
    if typed.quarantined:
        quarantine_key = f"quarantine/{ds.source}/{ds.name}/{day}/{batch_id}.jsonl"
        lines = (json.dumps(q, ensure_ascii=False, default=str) for q in typed.quarantined)
        # A lone surrogate (from a hostile \ud800 escape) is written back as that escape: the line stays JSON of it.
        lake.put_bytes(quarantine_key, ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace"))
    manifest = Manifest(
        batch_id=batch_id,
        source=ds.source,
        dataset=ds.name,
        origin=origin,
        extracted_at=extracted_at.isoformat(),
        cursor_from=cursor_from,
        cursor_to=cursor_to,
        source_rows=typed.source_rows,
        row_count=row_count,
        quarantined_count=len(typed.quarantined),
        duplicate_count=typed.duplicates,
        parquet_key=parquet_key,
        parquet_sha256=sha,
        quarantine_key=quarantine_key,
        landing_keys=landing_keys,
        schema=ds.describe(),
        primary_key=list(ds.primary_key),
        schema_drift={"new_columns": sorted(typed.new_columns)} if typed.new_columns else {},
        mode=ds.mode,
        replace_by=ds.extra.get("replace_by"),
        chunks=max(chunks, 1),
    )
    # The manifest is written last: its presence means the batch is whole in the lake.
    lake.put_bytes(manifest.key, manifest.to_json(), "application/json")
    return manifest


def register(settings: Settings, m: Manifest) -> None:
    with engine(settings).begin() as c:
        c.execute(
            sa.text(
                """
                insert into ops.batches (batch_id, source, dataset, origin, status, source_rows, row_count,
                    quarantined_count, duplicate_count, cursor_from, cursor_to, manifest_key, schema_drift,
                    extracted_at)
                values (:batch_id, :source, :dataset, :origin, 'extracted', :source_rows, :row_count,
                    :quarantined_count, :duplicate_count, :cursor_from, :cursor_to, :key,
                    cast(:drift as jsonb), :extracted_at)
                on conflict (batch_id) do nothing
                """
            ),
            {**asdict(m), "key": m.key, "drift": json.dumps(m.schema_drift, ensure_ascii=False)},
        )


def extract_dataset(settings: Settings, src: Source, ds: Dataset, until: datetime, lake: Lake) -> Manifest:
    extracted_at = datetime.now(UTC)
    # Snapshot sources use their cursor too: to skip a snapshot identical to the last one.
    cursor = ops.get_cursor(settings, ds.source, ds.name)
    batch_id = make_batch_id(ds.source, ds.name, extracted_at, f"{cursor}|{until.isoformat()}")
    day = extracted_at.strftime("%Y-%m-%d")
    typed = _Typed()
    landing_keys: list[str] = []
    cursor_to = cursor
    progress = reporter().start(f"{ds.source}.{ds.name} extract 抽取")
    try:
        for number, page in enumerate(src.read(ds.name, cursor, until), start=1):
            ext = "json" if "json" in page.content_type else "bin"
            key = f"landing/{ds.source}/{ds.name}/{day}/{batch_id}/page-{number:05d}.{ext}.gz"
            lake.put_bytes(key, gzip.compress(page.body, mtime=0), "application/gzip")
            landing_keys.append(key)
            type_page(src, ds, page, key, typed)
            typed.flush_if_full(ds)
            if page.cursor:
                cursor_to = page.cursor
            progress.advance(rows=len(page.records), pages=1)
        if typed.new_columns:
            log.warning(
                "%s.%s: new column(s) kept in _extra: %s", ds.source, ds.name, ", ".join(sorted(typed.new_columns))
            )
        manifest = write_batch(
            lake,
            ds,
            batch_id,
            extracted_at,
            typed,
            origin="extract",
            cursor_from=cursor,
            cursor_to=cursor_to,
            landing_keys=landing_keys,
        )
    except BaseException:
        if typed.spool is not None:  # the chunks written so far: a failed batch leaves no temp file
            typed.spool.cleanup()
        progress.done(failed=True)
        raise
    register(settings, manifest)
    progress.note(f"{manifest.row_count:,} typed, {manifest.quarantined_count:,} quarantined")
    progress.done()
    log.info(
        "%s: %d rows, %d quarantined, %d duplicates from %d page(s)",
        batch_id,
        manifest.row_count,
        manifest.quarantined_count,
        manifest.duplicate_count,
        len(landing_keys),
    )
    return manifest


# Class of the advisory locks that serialise extractions of one dataset (edp.storage.warehouse.advisory_lock).
EXTRACT_LOCK = 2103810030


class DatasetErrors(EdpError):
    """Some datasets of a source failed; the others were extracted."""

    def __init__(self, source: str, errors: dict[str, Exception], manifests: list[Manifest]) -> None:
        detail = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in errors.items())
        super().__init__(f"{source}: {len(errors)} dataset(s) failed ({detail})")
        self.errors = errors
        self.manifests = manifests
        # Failures of one class exit with its code (every dataset answered 404: 4); mixed ones with 1.
        codes = {exc.exit_code if isinstance(exc, EdpError) else EdpError.exit_code for exc in errors.values()}
        self.exit_code = codes.pop() if len(codes) == 1 else EdpError.exit_code


def extract(
    settings: Settings, source: str, datasets: list[str] | None = None, until: datetime | None = None
) -> list[Manifest]:
    """Pull every (or the named) dataset of ``source`` into the lake.

    One dataset failing (schema drift, a rejected request) does not stop the
    others: they are extracted, then ``DatasetErrors`` names what failed.
    """
    require_current(settings)
    # Airflow hands pendulum datetimes; the connectors work with stdlib ones.
    until = datetime.fromtimestamp(until.timestamp(), tz=UTC) if until else datetime.now(UTC)
    lake = open_lake(settings)
    src = build_source(settings, source)
    manifests: list[Manifest] = []
    errors: dict[str, Exception] = {}
    try:
        for name in datasets or list(src.datasets()):
            try:
                # Two runs of one dataset queue: batches then register in extraction order, and the
                # loader's "nothing new since the last stored batch" compares each with the one before.
                with advisory_lock(settings, EXTRACT_LOCK, f"{source}.{name}"):
                    manifests.append(extract_dataset(settings, src, src.datasets()[name], until, lake))
            except SourceUnavailable:
                raise  # the whole source is down: the other datasets would fail the same way
            except SourceRejected as exc:
                if exc.status in (401, 403):
                    raise  # credentials refused: the same for every dataset
                log.error("%s.%s: %s", source, name, exc)
                errors[name] = exc
            except Exception as exc:
                log.error("%s.%s: %s: %s", source, name, type(exc).__name__, exc)
                errors[name] = exc
    finally:
        src.close()
    if errors:
        raise DatasetErrors(source, errors, manifests)
    return manifests
