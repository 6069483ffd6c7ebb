"""What a receipt from the 鞍山市 exchange must satisfy before a batch counts as delivered.

A ``200`` says nothing by itself: a receipt is believed only when it parses as
the contract's receipt (``receipt_id``, ``batch_id``, ``accepted``,
``rejected[]``), names the batch we sent, accounts for every record of it
(``accepted`` + rejected entries = records sent), each rejected entry points
at a record of that batch (by ``index``, and names the ``record_id`` we sent
at that index), and, when the receipt carries a digest
(``records_sha256`` or ``body_sha256``: the contract's receipt has none, a city
may add one), the digest is the one of the body we sent. Anything else is a
:class:`ReceiptInvalid`: a protocol error, and the batch stays pending.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from edp.errors import ExchangeFailed

# A receipt lists at most one rejected entry per record (1000) with a reason each: far below this.
MAX_RECEIPT_BYTES = 2 * 1024 * 1024

_Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]
_Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class ReceiptInvalid(ExchangeFailed):
    """The city answered 200 with something that is not a receipt of this batch."""

    def __init__(self, problem: str, reply: bytes = b"") -> None:
        super().__init__(problem)
        self.problem = problem
        self.reply = reply
        # How the reply was asked for ("push" or "lookup"), set by the sync that asked.
        self.via: str | None = None


class RejectedEntry(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    index: int = Field(ge=0)
    record_id: str | None = None
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""


class Receipt(BaseModel):
    """The contract's receipt; unknown extra fields are ignored, known ones must be right."""

    model_config = ConfigDict(extra="ignore", strict=True)

    receipt_id: _Id
    batch_id: _Id
    accepted: int = Field(ge=0)
    rejected: list[RejectedEntry]
    records_sha256: _Sha256 | None = None
    body_sha256: _Sha256 | None = None


@dataclass(frozen=True)
class SentBatch:
    """What we sent, read back from the stored body: the yardstick of its receipt."""

    batch_id: str
    records: tuple[tuple[str, int], ...]  # (record_id, version) by index
    records_sha256: str
    body_sha256: str

    @classmethod
    def from_body(cls, body: bytes) -> SentBatch:
        doc = json.loads(body)
        return cls(
            batch_id=doc["batch_id"],
            records=tuple((r["record_id"], int(r["version"])) for r in doc["records"]),
            records_sha256=doc["records_sha256"],
            body_sha256=hashlib.sha256(body).hexdigest(),
        )


def _excerpt(reply: bytes) -> str:
    text = reply[:120].decode("utf-8", "replace")
    return repr(text) + ("…" if len(reply) > 120 else "")


def parse_receipt(reply: bytes) -> Receipt:
    """The receipt in a 200's body, or :class:`ReceiptInvalid` saying in one line what is wrong."""
    if not reply.strip():
        raise ReceiptInvalid("the 200 reply has an empty body, not a receipt", reply)
    if len(reply) > MAX_RECEIPT_BYTES:
        raise ReceiptInvalid(f"the 200 reply is {len(reply)} bytes, more than a receipt's {MAX_RECEIPT_BYTES}", reply)
    try:
        doc: Any = json.loads(reply)
    except json.JSONDecodeError as exc:
        raise ReceiptInvalid(f"the 200 reply is not JSON ({exc.msg}): {_excerpt(reply)}", reply) from None
    except UnicodeDecodeError:
        raise ReceiptInvalid(f"the 200 reply is not JSON (not UTF-8): {_excerpt(reply)}", reply) from None
    if not isinstance(doc, dict):
        raise ReceiptInvalid(f"the 200 reply is JSON {type(doc).__name__}, not a receipt object", reply)
    try:
        return Receipt.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "receipt"
        raise ReceiptInvalid(
            f"the receipt's field {where}: {first['msg']} ({exc.error_count()} problem(s))", reply
        ) from None


def problems(receipt: Receipt, sent: SentBatch) -> list[str]:
    """Every way ``receipt`` fails to acknowledge ``sent``; empty when it does."""
    found: list[str] = []
    if receipt.batch_id != sent.batch_id:
        found.append(f"receipt names batch {receipt.batch_id!r}, we sent {sent.batch_id!r}")
    total = receipt.accepted + len(receipt.rejected)
    if total != len(sent.records):
        found.append(
            f"receipt accounts for {total} record(s) (accepted {receipt.accepted} + rejected "
            f"{len(receipt.rejected)}), we sent {len(sent.records)}"
        )
    seen: set[int] = set()
    for entry in receipt.rejected:
        if entry.index >= len(sent.records):
            found.append(f"rejected entry index {entry.index} is beyond the batch's {len(sent.records)} records")
            continue
        if entry.index in seen:
            found.append(f"rejected entry index {entry.index} appears twice")
        seen.add(entry.index)
        record_id = sent.records[entry.index][0]
        if entry.record_id is None:
            # Every record we send has an id: an entry without one is not about our record.
            found.append(f"rejected entry {entry.index} names no record_id, we sent {record_id!r} there")
        elif entry.record_id != record_id:
            found.append(f"rejected entry {entry.index} names record {entry.record_id!r}, we sent {record_id!r} there")
    if receipt.records_sha256 is not None and receipt.records_sha256 != sent.records_sha256:
        found.append(f"receipt records_sha256 {receipt.records_sha256[:12]}… is not ours {sent.records_sha256[:12]}…")
    if receipt.body_sha256 is not None and receipt.body_sha256 != sent.body_sha256:
        found.append(f"receipt body_sha256 {receipt.body_sha256[:12]}… is not ours {sent.body_sha256[:12]}…")
    return found


def verify(reply: bytes, sent: SentBatch) -> Receipt:
    """The verified receipt of ``sent`` in ``reply``, or :class:`ReceiptInvalid` naming every mismatch."""
    receipt = parse_receipt(reply)
    found = problems(receipt, sent)
    if found:
        raise ReceiptInvalid("; ".join(found), reply)
    return receipt


def rejected_versions(receipt: Receipt, sent: SentBatch) -> list[tuple[str, int, str]]:
    """(record_id, version, reason) of each rejected record of a verified receipt."""
    return [(*sent.records[e.index], e.reason or "rejected without a reason") for e in receipt.rejected]
