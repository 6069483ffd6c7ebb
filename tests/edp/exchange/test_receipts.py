"""What a receipt must satisfy before the sync believes it (edp.exchange.receipts), on stored batch bodies."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edp.exchange.city_client import canonical_json
from edp.exchange.receipts import (
    MAX_RECEIPT_BYTES,
    ReceiptInvalid,
    SentBatch,
    parse_receipt,
    rejected_versions,
    verify,
)
from edp.exchange.sync import _batch_body

BATCH_ID = "210381-hazard_events-20261128T0100-000042"


def _sent(n: int = 3) -> tuple[SentBatch, bytes]:
    records = [
        {"record_id": f"weather-rain-{i}", "op": "upsert", "version": 1 + i % 2, "data": {"雨量": i}} for i in range(n)
    ]
    body = _batch_body("hazard_events", BATCH_ID, records, datetime(2026, 11, 28, 1, tzinfo=UTC))
    return SentBatch.from_body(body), body


def _reply(**fields: Any) -> bytes:
    receipt = {"receipt_id": "RCPT-1", "batch_id": BATCH_ID, "accepted": 3, "rejected": [], **fields}
    return json.dumps(receipt, ensure_ascii=False).encode()


def test_the_city_s_honest_receipt_is_believed() -> None:
    sent, body = _sent()
    assert sent.records_sha256 == json.loads(body)["records_sha256"]
    receipt = verify(_reply(), sent)
    assert receipt.accepted == 3 and receipt.rejected == []


def test_rejected_entries_map_to_the_record_version_at_their_index() -> None:
    sent, _ = _sent()
    reply = _reply(accepted=2, rejected=[{"index": 1, "record_id": "weather-rain-1", "reason": "坐标越界"}])
    receipt = verify(reply, sent)
    assert rejected_versions(receipt, sent) == [("weather-rain-1", 2, "坐标越界")]


def test_a_digest_the_city_adds_must_be_ours() -> None:
    sent, body = _sent()
    assert verify(_reply(records_sha256=sent.records_sha256, body_sha256=hashlib.sha256(body).hexdigest()), sent)
    with pytest.raises(ReceiptInvalid, match="records_sha256"):
        verify(_reply(records_sha256="0" * 64), sent)
    with pytest.raises(ReceiptInvalid, match="body_sha256"):
        verify(_reply(body_sha256="f" * 64), sent)


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b"<html>OK</html>", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON list"),
        (b"null", "JSON NoneType"),
        (_reply(batch_id="210381-hazard_events-20261128T0100-000043"), "names batch"),
        (_reply(accepted=0), "accounts for 0 record"),
        (_reply(accepted=2), "accounts for 2"),
        (_reply(accepted=4), "accounts for 4"),
        (_reply(accepted=-1), "accepted"),
        (_reply(accepted="3"), "accepted"),
        (_reply(accepted=True), "accepted"),
        (_reply(receipt_id=""), "receipt_id"),
        (_reply(rejected=None), "rejected"),
        (_reply(accepted=2, rejected=[{"index": 9, "record_id": "x", "reason": "r"}]), "beyond"),
        (_reply(accepted=2, rejected=[{"index": 0, "record_id": "someone-else", "reason": "r"}]), "names record"),
        (_reply(accepted=1, rejected=[{"index": 0, "reason": "r"}, {"index": 0, "reason": "r"}]), "twice"),
        (_reply(accepted=2, rejected=[{"index": 2, "record_id": None, "reason": "r"}]), "names no record_id"),
        (_reply(accepted=2, rejected=[{"index": "0", "reason": "r"}]), "rejected.0.index"),
        (_reply(records_sha256="not hex"), "records_sha256"),
    ],
)
def test_anything_else_is_a_protocol_error_saying_what_did_not_match(reply: bytes, fragment: str) -> None:
    sent, _ = _sent()
    with pytest.raises(ReceiptInvalid, match=fragment) as caught:
        verify(reply, sent)
    assert caught.value.reply == reply
    assert "\n" not in caught.value.problem


def test_an_oversized_reply_is_refused_before_parsing() -> None:
    with pytest.raises(ReceiptInvalid, match="more than a receipt's"):
        parse_receipt(b" " * 10 + b"{" + b" " * MAX_RECEIPT_BYTES + b"}")


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    accepted=st.integers(min_value=0, max_value=6),
    indexes=st.lists(st.integers(min_value=0, max_value=5), max_size=4),
    batch_id=st.sampled_from([BATCH_ID, BATCH_ID[:-1] + "3", ""]),
)
def test_only_a_receipt_accounting_for_exactly_our_records_is_believed(
    accepted: int, indexes: list[int], batch_id: str
) -> None:
    sent, _ = _sent(4)
    rejected = [{"index": i, "record_id": sent.records[i][0] if i < 4 else "x", "reason": "r"} for i in indexes]
    reply = canonical_json({"receipt_id": "R", "batch_id": batch_id, "accepted": accepted, "rejected": rejected})
    honest = batch_id == BATCH_ID and accepted + len(indexes) == 4 and len(set(indexes)) == len(indexes)
    honest = honest and all(i < 4 for i in indexes)
    if honest:
        assert verify(reply, sent).accepted == accepted
    else:
        with pytest.raises(ReceiptInvalid):
            verify(reply, sent)
