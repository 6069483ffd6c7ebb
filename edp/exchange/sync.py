"""Mart → 鞍山市 exchange: outbox by deterministic diff, batches, receipts.

Why a diff and not triggers: dbt rebuilds marts with delete+insert/merge, so a
row "changing" in the database says nothing about its content. Comparing each
row's content hash with the last version recorded in ``sync.outbox`` yields
exactly the records whose content changed, with a version that only grows.

A batch body is packed once and stored before it is sent; a resend after a
crash or a lost reply sends the very same bytes under the same
Idempotency-Key, so the city stores it once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from edp.errors import QualityBlocked
from edp.exchange.city_client import ExchangeClient, ReplyLost, canonical_json, exchange_config
from edp.exchange.receipts import Receipt, ReceiptInvalid, SentBatch, rejected_versions, verify
from edp.progress import Task, reporter
from edp.settings import REGION_CODE, Settings
from edp.storage.migrate import require_current
from edp.storage.warehouse import advisory_lock, engine

log = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MAX_RECORDS = 1000
MAX_BYTES = 5 * 1024 * 1024
SCHEMA_VERSION = "1.0"


@dataclass(frozen=True)
class Exchanged:
    """A dataset of the exchange contract and the mart it is read from."""

    dataset: str
    table: str
    key: str
    # Quality datasets that must not be blocked for this one to be published.
    gated_by: tuple[str, ...] = ()
    # Rows of the mart that are exchanged (SQL condition), e.g. current versions only.
    where: str | None = None
    # Columns never sent upstream (data minimisation).
    omit: tuple[str, ...] = ()
    # Row-level minimisation before a record leaves the county.
    minimise: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Row holds (edp.quality.holds): for a gating dataset, the exchanged record a held record's key
    # maps to (None: none). The mart itself needs no entry when its key column is ``key``; a gating
    # dataset with held records and no entry here blocks the whole dataset.
    held_maps: Mapping[str, Callable[[Mapping[str, str | None]], str | None]] = field(default_factory=dict)


def _credit_code(key: Mapping[str, str | None]) -> str | None:
    return key.get("credit_code")


def _enterprise_site(key: Mapping[str, str | None]) -> str | None:
    # int_enterprise_sites_versioned: a major-hazard enterprise's site is keyed by its credit code.
    code = key.get("credit_code")
    return f"major_hazard_enterprise:{code}" if code else None


def _site_of_version(key: Mapping[str, str | None]) -> str | None:
    # dim_hazard_site's key is site_version_id = site_id || '@' || valid_from.
    version = key.get("site_version_id")
    return version.rsplit("@", 1)[0] if version else None


def _without_police_free_text(row: dict[str, Any]) -> dict[str, Any]:
    """Alarm and accident free text may name people (the connector masks numbers, not names):
    upstream gets the category instead of the narrative."""
    if row.get("source") == "police":
        return {**row, "description": row.get("category_name")}
    return row


def _raw(source: str, *datasets: str) -> tuple[str, ...]:
    return tuple(f"raw.{source}__{d}" for d in datasets)


EXCHANGED: dict[str, Exchanged] = {
    "hazard_events": Exchanged(
        "hazard_events",
        "marts.fct_hazard_event",
        "event_id",
        gated_by=(
            *_raw("weather", "stations", "observations", "warnings"),
            *_raw("water", "stations"),
            *_raw("water", "rainfall", "river", "reservoir", "river_thresholds", "reservoir_flood_limits"),
            *_raw("police", "alarms", "accidents"),
            *_raw("transport", "road_events"),
            *_raw("bureau", "event_reports"),
            "marts.fct_weather_hourly_extremes",
            "marts.fct_hazard_event",
        ),
        minimise=_without_police_free_text,
    ),
    "warnings": Exchanged(
        "warnings", "marts.fct_warning", "identifier", gated_by=(*_raw("weather", "warnings"), "marts.fct_warning")
    ),
    "hazard_sites": Exchanged(
        "hazard_sites",
        "marts.dim_hazard_site",
        "site_id",
        where="valid_to is null",
        gated_by=(
            *_raw("natural_resources", "hazard_points"),
            *_raw("transport", "bridges"),
            *_raw("water", "stations", "river_thresholds", "reservoir_flood_limits"),
            *_raw("bureau", "chemical_enterprises"),
            "marts.dim_hazard_site",
        ),
        held_maps={"raw.bureau__chemical_enterprises": _enterprise_site, "marts.dim_hazard_site": _site_of_version},
    ),
    "enterprises": Exchanged(
        "enterprises",
        "marts.dim_enterprise",
        "enterprise_id",
        gated_by=(
            *_raw("bureau", "chemical_enterprises", "safety_hazards"),
            *_raw("police", "key_units"),
            *_raw("transport", "hazmat_carriers", "hazmat_waybills"),
            *_raw("natural_resources", "mining_rights"),
            "marts.dim_enterprise",
        ),
        held_maps={"raw.bureau__chemical_enterprises": _credit_code},
    ),
    "resources": Exchanged(
        "resources",
        "marts.dim_resource_site",
        "resource_site_id",
        gated_by=(
            *_raw("bureau", "material_stock", "rescue_teams", "division_facts"),
            *_raw("natural_resources", "shelters"),
            "marts.dim_resource_site",
        ),
    ),
    # No gate: the quality report must go out most of all when data is blocked.
    "quality_reports": Exchanged("quality_reports", "audit.quality_reports_latest", "report_id"),
}


class SyncBlocked(QualityBlocked):
    """A dataset failed its blocking quality checks and is not published."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _mart_rows(conn: sa.Connection, spec: Exchanged) -> dict[str, dict[str, Any]]:
    schema, table = spec.table.split(".")
    exists = conn.execute(sa.text("select to_regclass(:t)"), {"t": spec.table}).scalar()
    if not exists:
        return {}
    where = f"where {spec.where}" if spec.where else ""
    rows = conn.execute(sa.text(f'select * from "{schema}"."{table}" {where} order by "{spec.key}"'))
    out = {}
    for r in rows:
        data = {k: _jsonable(v) for k, v in r._mapping.items() if k not in spec.omit}
        out[str(r._mapping[spec.key])] = spec.minimise(data) if spec.minimise else data
    return out


def _held_map(spec: Exchanged, dataset: str) -> Callable[[Mapping[str, str | None]], str | None] | None:
    if dataset in spec.held_maps:
        return spec.held_maps[dataset]
    if dataset == spec.table:
        return lambda key: key.get(spec.key)
    return None


def withheld(conn: sa.Connection, spec: Exchanged) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The exchanged records held back by row holds (record id -> its holds), and the gating
    datasets holding records that map to none of them (those block the dataset)."""
    from edp.quality.holds import open_holds

    records: dict[str, list[dict[str, Any]]] = {}
    unmapped: list[str] = []
    for hold in open_holds(conn, spec.gated_by):
        mapper = _held_map(spec, hold["dataset"])
        if mapper is None:
            unmapped.append(hold["dataset"])
            continue
        record_id = mapper(hold["record_key"])
        if record_id is not None:
            records.setdefault(record_id, []).append(hold)
    return records, sorted(set(unmapped))


def diff_to_outbox(settings: Settings, spec: Exchanged) -> dict[str, int]:
    """Record each new, changed or vanished mart row as a new outbox version.

    A record held back by a row hold gets no new version, neither upsert nor delete: the city keeps
    what it has until the hold is released, and the next run after that sends the record.
    """
    counts = {"upsert": 0, "delete": 0, "unchanged": 0}
    with engine(settings).begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:d))"), {"d": f"sync:{spec.dataset}"})
        held, _ = withheld(conn, spec)
        current = _mart_rows(conn, spec)
        if withheld_now := sum(record_id in held for record_id in current):
            counts["held"] = withheld_now  # only when some are: the counts keep their shape otherwise
        current = {k: v for k, v in current.items() if k not in held}
        latest = {
            r.record_id: r
            for r in conn.execute(
                sa.text(
                    "select distinct on (record_id) record_id, version, op, content_sha256 from sync.outbox "
                    "where dataset=:d order by record_id, version desc"
                ),
                {"d": spec.dataset},
            )
        }
        # (record_id, version, op, data as JSON — none for a delete, content_sha256)
        new_rows: list[tuple[str, int, str, str | None, str]] = []
        for record_id, data in current.items():
            digest = hashlib.sha256(canonical_json(data)).hexdigest()
            prev = latest.get(record_id)
            if prev is not None and prev.op == "upsert" and prev.content_sha256 == digest:
                counts["unchanged"] += 1
                continue
            version = prev.version + 1 if prev else 1
            new_rows.append((record_id, version, "upsert", json.dumps(data, ensure_ascii=False), digest))
            counts["upsert"] += 1
        for record_id, prev in latest.items():
            if record_id not in current and record_id not in held and prev.op == "upsert":
                new_rows.append((record_id, prev.version + 1, "delete", None, "deleted"))
                counts["delete"] += 1
        if new_rows:
            conn.execute(
                sa.text(
                    "insert into sync.outbox (dataset, record_id, version, op, data, content_sha256) "
                    "values (:d, :r, :v, :o, cast(:data as jsonb), :h)"
                ),
                [{"d": spec.dataset, "r": r, "v": v, "o": o, "data": d, "h": h} for r, v, o, d, h in new_rows],
            )
    return counts


def _record(row: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"record_id": row.record_id, "op": row.op, "version": int(row.version)}
    if row.op == "upsert":
        rec["data"] = row.data
    return rec


def _batch_body(dataset: str, batch_id: str, records: list[dict[str, Any]], generated_at: datetime) -> bytes:
    return canonical_json(
        {
            "batch_id": batch_id,
            "region_code": REGION_CODE,
            "dataset": dataset,
            "schema_version": SCHEMA_VERSION,
            "generated_at": generated_at.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
            "record_count": len(records),
            "records_sha256": hashlib.sha256(canonical_json(records)).hexdigest(),
            "records": records,
        }
    )


def _chunks(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split into batches within the contract's 1000 records and 5 MB."""
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 1024  # envelope
    for rec in records:
        rec_size = len(canonical_json(rec)) + 1
        if current and (len(current) >= MAX_RECORDS or size + rec_size > MAX_BYTES):
            chunks.append(current)
            current, size = [], 1024
        current.append(rec)
        size += rec_size
    if current:
        chunks.append(current)
    return chunks


def pack(settings: Settings, spec: Exchanged, now: datetime | None = None) -> list[str]:
    """Pack pending outbox records into stored batches (deterministic ids)."""
    now = now or datetime.now(UTC)
    batch_ids: list[str] = []
    with engine(settings).begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext(:d))"), {"d": f"sync:{spec.dataset}"})
        pending = conn.execute(
            sa.text(
                "select record_id, version, op, data from sync.outbox where dataset=:d and batch_id is null "
                "order by version, record_id"
            ),
            {"d": spec.dataset},
        ).all()
        seq: int = conn.execute(
            sa.text("select coalesce(max(seq), 0) from sync.batches where dataset=:d"), {"d": spec.dataset}
        ).scalar_one()
        stamp = now.astimezone(LOCAL_TZ).strftime("%Y%m%dT%H%M")
        for chunk in _chunks([_record(r) for r in pending]):
            seq += 1
            batch_id = f"{REGION_CODE}-{spec.dataset}-{stamp}-{seq:06d}"
            body = _batch_body(spec.dataset, batch_id, chunk, now)
            conn.execute(
                sa.text(
                    "insert into sync.batches (batch_id, dataset, seq, body, body_sha256, records_sha256, "
                    "record_count) values (:b, :d, :s, :body, :bh, :rh, :n)"
                ),
                {
                    "b": batch_id,
                    "d": spec.dataset,
                    "s": seq,
                    "body": body,
                    "bh": hashlib.sha256(body).hexdigest(),
                    "rh": hashlib.sha256(canonical_json(chunk)).hexdigest(),
                    "n": len(chunk),
                },
            )
            conn.execute(
                sa.text(
                    "update sync.outbox set batch_id=:b, status='packed' where dataset=:d and "
                    "(record_id, version) in (select x.r, x.v from jsonb_to_recordset(cast(:keys as jsonb)) "
                    "as x(r text, v bigint))"
                ),
                {
                    "b": batch_id,
                    "d": spec.dataset,
                    "keys": json.dumps([{"r": r["record_id"], "v": r["version"]} for r in chunk]),
                },
            )
            batch_ids.append(batch_id)
    return batch_ids


RECEIPT_ALERT = "receipt_invalid"


def receipt_alert_key(dataset: str) -> str:
    """One open alert per dataset however many of its batches got a bad receipt (occurrences count them)."""
    return f"{RECEIPT_ALERT}:{dataset}"


def _store_receipt(settings: Settings, sent: SentBatch, receipt: Receipt, via: str) -> None:
    """Record a verified receipt: the batch acknowledged, its records accepted or rejected by version."""
    rejected = rejected_versions(receipt, sent)
    with engine(settings).begin() as conn:
        conn.execute(
            sa.text(
                "insert into sync.receipts (receipt_id, batch_id, accepted, rejected, via) "
                "values (:r, :b, :a, cast(:rej as jsonb), :via) on conflict (receipt_id) do nothing"
            ),
            {
                "r": receipt.receipt_id,
                "b": sent.batch_id,
                "a": receipt.accepted,
                "rej": json.dumps(
                    [
                        {"index": e.index, "record_id": rid, "version": v, "reason": why}
                        for e, (rid, v, why) in zip(receipt.rejected, rejected, strict=True)
                    ],
                    ensure_ascii=False,
                ),
                "via": via,
            },
        )
        owner: str = conn.execute(
            sa.text("select batch_id from sync.receipts where receipt_id=:r"), {"r": receipt.receipt_id}
        ).scalar_one()
        if owner != sent.batch_id:
            # Rolls the transaction back: one receipt cannot acknowledge two batches.
            raise ReceiptInvalid(f"receipt {receipt.receipt_id} already acknowledged batch {owner}")
        conn.execute(
            sa.text(
                "update sync.batches set status='acked', receipt_id=:r, acked_at=now(), last_error=null "
                "where batch_id=:b"
            ),
            {"r": receipt.receipt_id, "b": sent.batch_id},
        )
        conn.execute(
            sa.text("update sync.outbox set status='accepted', reject_reason=null where batch_id=:b"),
            {"b": sent.batch_id},
        )
        for record_id, version, reason in rejected:
            # The county's to fix: kept with the city's reason; a corrected mart row becomes a new version.
            conn.execute(
                sa.text(
                    "update sync.outbox set status='rejected', reject_reason=:why "
                    "where batch_id=:b and record_id=:r and version=:v"
                ),
                {"why": reason, "b": sent.batch_id, "r": record_id, "v": version},
            )


def _record_receipt_error(settings: Settings, dataset: str, batch_id: str, exc: ReceiptInvalid, via: str) -> None:
    with engine(settings).begin() as conn:
        conn.execute(
            sa.text(
                "insert into sync.receipt_errors (batch_id, dataset, via, problem, reply_excerpt, reply_sha256) "
                "values (:b, :d, :via, :p, :x, :h)"
            ),
            {
                "b": batch_id,
                "d": dataset,
                "via": via,
                "p": exc.problem,
                "x": exc.reply[:2000].decode("utf-8", "replace"),
                "h": hashlib.sha256(exc.reply).hexdigest(),
            },
        )


def _protocol_error(settings: Settings, dataset: str, batch_id: str, exc: ReceiptInvalid, via: str) -> None:
    """The batch stays pending as 'receipt_invalid' (a later run looks it up, then resends it); an alert is raised."""
    from edp.alerts.alerting import raise_alert

    log.error("anshan: batch %s: the city's 200 is not a receipt of it (%s): %s", batch_id, via, exc.problem)
    _record_receipt_error(settings, dataset, batch_id, exc, via)
    with engine(settings).begin() as conn:
        conn.execute(
            sa.text("update sync.batches set status='receipt_invalid', last_error=:e where batch_id=:b"),
            {"e": f"receipt invalid ({via}): {exc.problem}", "b": batch_id},
        )
    raise_alert(
        settings,
        kind=RECEIPT_ALERT,
        key=receipt_alert_key(dataset),
        reason=f"batch {batch_id}: {exc.problem}",
        dataset=dataset,
        details={"batch_id": batch_id, "via": via},
    )


def _deliver(
    settings: Settings, client: ExchangeClient, dataset: str, sent: SentBatch, body: bytes, asked_before: bool
) -> tuple[Receipt, str]:
    """Get a verified receipt for a stored batch: look it up first if it may have reached the city, then
    push the very same bytes under the same Idempotency-Key (the city stores a batch once).

    Raises :class:`ReceiptInvalid` (with ``via``) when the city's last 200 is not a receipt of this batch.
    """
    if asked_before:
        reply = client.lookup(sent.batch_id)
        if reply is not None:
            try:
                return verify(reply, sent), "lookup"
            except ReceiptInvalid as exc:
                # Kept as evidence; the idempotent push below asks the city once more.
                _record_receipt_error(settings, dataset, sent.batch_id, exc, "lookup")
    _mark_sending(settings, sent.batch_id)
    via = "push"
    try:
        reply = client.push(sent.batch_id, body)
    except ReplyLost:
        looked_up = client.lookup(sent.batch_id)
        if looked_up is None:
            reply = client.push(sent.batch_id, body)
        else:
            reply, via = looked_up, "lookup"
    try:
        return verify(reply, sent), via
    except ReceiptInvalid as exc:
        exc.via = via
        raise


def send_pending(
    settings: Settings, client: ExchangeClient, dataset: str, progress: Task | None = None
) -> dict[str, int]:
    """Send every stored batch not yet acknowledged by a verified receipt, oldest first (``progress``: per batch)."""
    stats = {"sent": 0, "acked_by_lookup": 0, "records": 0, "rejected": 0, "protocol_errors": 0}
    with engine(settings).connect() as conn:
        todo: Sequence[tuple[str, bytes, int, str]] = (
            conn.execute(
                sa.text(
                    "select batch_id, body, attempts, status from sync.batches where dataset=:d and status<>'acked' "
                    "order by seq"
                ),
                {"d": dataset},
            )
            .tuples()
            .all()
        )
    had_invalid = any(status == "receipt_invalid" for *_, status in todo)
    for batch_id, body, attempts, _status in todo:
        sent = SentBatch.from_body(bytes(body))
        via = "push"
        try:
            receipt, via = _deliver(settings, client, dataset, sent, bytes(body), asked_before=attempts > 0)
            _store_receipt(settings, sent, receipt, via=via)
        except ReceiptInvalid as exc:
            _protocol_error(settings, dataset, batch_id, exc, exc.via or via)
            stats["protocol_errors"] += 1
            if progress is not None:
                progress.advance(protocol_errors=1)
            continue
        stats["sent"] += 1
        stats["acked_by_lookup"] += int(via == "lookup")
        stats["records"] += receipt.accepted
        stats["rejected"] += len(receipt.rejected)
        if progress is not None:  # rows: the records sent; accepted and rejected as the city's receipt says
            progress.advance(
                rows=len(sent.records), batches=1, accepted=receipt.accepted, rejected=len(receipt.rejected)
            )
    # Resolved once no batch of the dataset waits on a bad receipt (also after a run killed mid-resend).
    if (had_invalid or stats["sent"]) and not stats["protocol_errors"] and not _invalid_batches(settings, dataset):
        from edp.alerts.alerting import resolve_alerts

        resolve_alerts(settings, key=receipt_alert_key(dataset))
    return stats


def _invalid_batches(settings: Settings, dataset: str) -> int:
    with engine(settings).connect() as conn:
        return int(
            conn.execute(
                sa.text("select count(*) from sync.batches where dataset=:d and status='receipt_invalid'"),
                {"d": dataset},
            ).scalar_one()
        )


def _mark_sending(settings: Settings, batch_id: str) -> None:
    with engine(settings).begin() as conn:
        conn.execute(
            sa.text(
                "update sync.batches set status='sending', attempts=attempts+1, "
                "first_sent_at=coalesce(first_sent_at, now()) where batch_id=:b"
            ),
            {"b": batch_id},
        )


def blocked_reason(settings: Settings, spec: Exchanged) -> str | None:
    from edp.quality.runner import dataset_status

    status = dataset_status(settings)
    blocked = [d for d in spec.gated_by if status.get(d) == "blocked"]
    if blocked:
        return f"{spec.dataset} not published: blocking quality failures in {', '.join(blocked)} (see `edp check`)"
    with engine(settings).connect() as conn:
        _, unmapped = withheld(conn, spec)
    if unmapped:
        return (
            f"{spec.dataset} not published: records held in {', '.join(unmapped)} do not map to "
            f"{spec.table} (no held_maps entry; see `edp sync status --held`)"
        )
    return None


@dataclass
class SyncResult:
    dataset: str
    diff: dict[str, int] = field(default_factory=dict)
    batches_packed: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    blocked: str | None = None


# Class of the session-level advisory locks that serialise syncs of one dataset to one exchange target
# (two-key locks: a separate key space from the one-key ``sync:<dataset>`` transaction locks of diff and pack).
SYNC_TARGET_LOCK = 2103810020


def target_lock(settings: Settings, target: str, dataset: str) -> AbstractContextManager[None]:
    """The lock of ``dataset`` at ``target`` (the exchange's URL), held for a dataset's whole sync.

    Two syncs at once (the CLI beside an Airflow run, or two Airflow runs) then queue per dataset: the
    second diffs, packs and sends only after the first has finished with it, and finds its work done.
    """
    return advisory_lock(settings, SYNC_TARGET_LOCK, f"{target}|{dataset}")


def sync(settings: Settings, datasets: list[str] | None = None) -> list[SyncResult]:
    require_current(settings)
    results: list[SyncResult] = []
    client = ExchangeClient(exchange_config(settings))
    try:
        for name in datasets or list(EXCHANGED):
            # One sync per dataset and target at a time: a concurrent one waits here, then finds its work done.
            with target_lock(settings, client.config.url, name), reporter().task(f"sync {name} 交换") as progress:
                spec = EXCHANGED[name]
                result = SyncResult(name)
                reason = blocked_reason(settings, spec)
                if reason:
                    log.error(reason)
                    result.blocked = reason
                    progress.note("blocked 已阻断")
                else:
                    progress.note("diff 比对")
                    result.diff = diff_to_outbox(settings, spec)
                    result.batches_packed = len(pack(settings, spec))
                    progress.note(f"{result.batches_packed} batch(es) packed, sending 发送")
                # Batches packed before a block are already promised: finish sending them.
                result.sent = send_pending(settings, client, name, progress)
                progress.note("blocked 已阻断" if result.blocked else "sent 已发送")
                results.append(result)
    finally:
        client.close()
    return results


def status(settings: Settings) -> list[dict[str, Any]]:
    """Per dataset: records pending, sent and not yet acknowledged, in batches whose receipt was invalid
    (protocol errors), accepted, rejected and withheld; batches, receipts, lag and the last protocol error."""
    require_current(settings)
    with engine(settings).connect() as conn:
        rows = conn.execute(
            sa.text(
                """
                select o.dataset,
                       count(*) filter (where o.batch_id is null) as pending,
                       count(*) filter (where b.status in ('packed', 'sending')) as sent_unacked,
                       count(*) filter (where b.status = 'receipt_invalid') as protocol_errors,
                       count(*) filter (where o.status = 'accepted') as accepted,
                       count(*) filter (where o.status = 'rejected') as rejected,
                       -- Rejected and not yet followed by a corrected version: the data owner's to fix.
                       count(*) filter (where o.status = 'rejected' and not exists (
                           select from sync.outbox n where n.dataset = o.dataset and n.record_id = o.record_id
                             and n.version > o.version)) as rejected_open,
                       (select max(r.received_at) from sync.receipts r join sync.batches rb using (batch_id)
                         where rb.dataset = o.dataset) as last_receipt_at,
                       (select count(*) from sync.batches cb where cb.dataset = o.dataset) as batches,
                       (select count(*) from sync.batches ib where ib.dataset = o.dataset
                         and ib.status = 'receipt_invalid') as invalid_receipt_batches,
                       (select ib.last_error from sync.batches ib where ib.dataset = o.dataset
                         and ib.status = 'receipt_invalid' order by ib.seq limit 1) as protocol_error,
                       -- Lag: how long the oldest record not yet accepted has been waiting.
                       round(extract(epoch from now() - min(o.created_at)
                             filter (where o.status not in ('accepted', 'rejected'))) / 60.0, 1) as lag_minutes,
                       (select count(*) from sync.receipts r join sync.batches rb using (batch_id)
                         where rb.dataset = o.dataset) as receipts
                from sync.outbox o left join sync.batches b on b.batch_id = o.batch_id
                group by o.dataset order by o.dataset
                """
            )
        )
        found = {r.dataset: dict(r._mapping) for r in rows}
        # Records withheld by row holds (edp.quality.holds), per exchanged dataset.
        for name, spec in EXCHANGED.items():
            records, unmapped = withheld(conn, spec)
            if records or unmapped or name in found:
                entry = found.setdefault(name, {"dataset": name})
                entry["withheld"] = len(records)
                if unmapped:
                    entry["held_unmapped"] = unmapped
        return [found[name] for name in sorted(found)]


def held(settings: Settings, datasets: list[str] | None = None) -> list[dict[str, Any]]:
    """Each withheld record: exchanged dataset, record id, and the rule, dataset, key and values that hold it."""
    out: list[dict[str, Any]] = []
    with engine(settings).connect() as conn:
        for name in datasets or list(EXCHANGED):
            records, _ = withheld(conn, EXCHANGED[name])
            for record_id, holds in sorted(records.items()):
                out += [
                    {
                        "dataset": name,
                        "record_id": record_id,
                        "rule": h["rule_id"],
                        "held_in": h["dataset"],
                        "key": h["record_key"],
                        "observed": h["observed"],
                        "held_at": h["held_at"],
                    }
                    for h in holds
                ]
    return out


def rejected_records(settings: Settings, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every record version the city rejected, with its reason and what became of it.

    ``corrected_version``/``corrected_status``: the newest later version of the record (queued once
    the mart row changed) and its state; none while the fix is still the data owner's to make.
    """
    require_current(settings)
    with engine(settings).connect() as conn:
        rows = conn.execute(
            sa.text(
                """
                select o.dataset, o.record_id, o.version, o.op, o.reject_reason as reason, o.batch_id,
                       r.received_at as rejected_at, later.version as corrected_version,
                       case when later.version is null then null
                            when later.batch_id is null then 'pending'
                            else later.status end as corrected_status
                from sync.outbox o
                left join sync.batches b on b.batch_id = o.batch_id
                left join sync.receipts r on r.receipt_id = b.receipt_id
                left join lateral (
                    select n.version, n.status, n.batch_id from sync.outbox n
                    where n.dataset = o.dataset and n.record_id = o.record_id and n.version > o.version
                    order by n.version desc limit 1
                ) later on true
                where o.status = 'rejected' and (cast(:d as text) is null or o.dataset = :d)
                order by o.dataset, o.record_id, o.version
                """
            ),
            {"d": dataset},
        )
        return [dict(r._mapping) for r in rows]
