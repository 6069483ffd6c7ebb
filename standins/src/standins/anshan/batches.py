"""Validation of pushed batches and of the records inside them.

Whole-batch problems refuse the batch (400, or 413 for more than 1000 records
-- "too large" in the contract's words); problems of single records only
reject those records in the receipt, and the rest of the batch is accepted.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

REGION_CODE = "210381"
DATASETS = frozenset({"hazard_events", "warnings", "hazard_sites", "enterprises", "resources", "quality_reports"})
# "5 MB" read as 5,000,000 bytes: the stricter reading, so a client that fits
# here fits any reading of the contract.
MAX_BODY_BYTES = 5_000_000
MAX_RECORDS = 1000
OPS = frozenset({"upsert", "delete"})
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class BatchError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Batch:
    batch_id: str
    dataset: str
    record_count: int
    records_sha256: str
    records: list[Any]


@dataclass(frozen=True)
class RecordChange:
    index: int
    record_id: str
    op: str
    version: int
    data: dict[str, Any] | None


def canonical_records_sha256(records: list[Any]) -> str:
    canonical = json.dumps(records, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_batch(body: bytes, idempotency_key: str) -> Batch:
    """The batch, or :class:`BatchError` with the status and reason to answer."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BatchError(400, f"body is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BatchError(400, "body must be a JSON object")
    for name in ("batch_id", "region_code", "dataset", "schema_version", "generated_at", "records_sha256"):
        if not isinstance(doc.get(name), str) or not doc[name]:
            raise BatchError(400, f"field {name} is required and must be a non-empty string")
    record_count = doc.get("record_count")
    if isinstance(record_count, bool) or not isinstance(record_count, int) or record_count < 0:
        raise BatchError(400, "field record_count is required and must be a non-negative integer")
    records = doc.get("records")
    if not isinstance(records, list):
        raise BatchError(400, "field records is required and must be an array")
    _check_batch_fields(doc, idempotency_key)
    if len(records) > MAX_RECORDS:
        raise BatchError(413, f"batch has {len(records)} records; at most {MAX_RECORDS} per batch")
    if record_count != len(records):
        raise BatchError(400, f"record_count is {record_count} but records has {len(records)} entries")
    actual = canonical_records_sha256(records)
    if doc["records_sha256"] != actual:
        raise BatchError(
            400,
            f"records_sha256 does not match the canonical JSON of records (got {doc['records_sha256']}, "
            f"computed {actual}; canonical = keys sorted, no whitespace, UTF-8, not ASCII-escaped)",
        )
    return Batch(doc["batch_id"], doc["dataset"], record_count, actual, records)


def _check_batch_fields(doc: dict[str, Any], idempotency_key: str) -> None:
    if doc["batch_id"] != idempotency_key:
        raise BatchError(400, "Idempotency-Key header must equal the body's batch_id")
    if doc["region_code"] != REGION_CODE:
        raise BatchError(400, f"region_code must be {REGION_CODE!r}")
    if doc["dataset"] not in DATASETS:
        raise BatchError(400, f"dataset must be one of {', '.join(sorted(DATASETS))}")
    try:
        generated = datetime.fromisoformat(doc["generated_at"])
    except ValueError:
        raise BatchError(400, "generated_at must be an ISO 8601 timestamp") from None
    if generated.tzinfo is None:
        raise BatchError(400, "generated_at must carry a UTC offset")
    if not _SHA256_HEX.fullmatch(doc["records_sha256"]):
        raise BatchError(400, "records_sha256 must be 64 lowercase hex digits")


def check_records(records: list[Any]) -> tuple[list[RecordChange], list[dict[str, Any]]]:
    """Split records into valid changes and receipt ``rejected`` entries."""
    changes: list[RecordChange] = []
    rejected: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        reason = _record_problem(record)
        if reason is None:
            data = record.get("data") if record["op"] == "upsert" else None
            changes.append(RecordChange(index, record["record_id"], record["op"], record["version"], data))
        else:
            record_id = record.get("record_id") if isinstance(record, dict) else None
            rejected.append(
                {
                    "index": index,
                    "record_id": record_id if isinstance(record_id, str) else None,
                    "reason": reason,
                }
            )
    return changes, rejected


def _record_problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return "record must be a JSON object"
    record_id = record.get("record_id")
    if not isinstance(record_id, str) or not record_id.strip():
        return "record_id must be a non-empty string"
    if record.get("op") not in OPS:
        return "op must be 'upsert' or 'delete'"
    version = record.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return "version must be a positive integer"
    if record["op"] == "upsert" and not isinstance(record.get("data"), dict):
        return "data must be an object for op 'upsert'"
    return None
