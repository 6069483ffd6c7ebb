"""What the sync sends: minimised records, the contract's JSON and signature, batches within its limits."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from edp.exchange.city_client import canonical_json, sign
from edp.exchange.sync import EXCHANGED, MAX_BYTES, MAX_RECORDS, _batch_body, _chunks


def assert_each_record_in_exactly_one_batch(records: list[dict[str, Any]], chunks: list[list[dict[str, Any]]]) -> None:
    """Every record is sent once: in one batch only, none lost, none added, in the order given."""
    sent = Counter(rec["record_id"] for chunk in chunks for rec in chunk)
    repeated = {record_id: n for record_id, n in sent.items() if n > 1}
    assert repeated == {}, f"records in more than one batch: {sorted(repeated)[:5]}"
    assert set(sent) == {rec["record_id"] for rec in records}
    assert [rec for chunk in chunks for rec in chunk] == records
    assert all(chunks), "an empty batch"


def test_police_narrative_never_goes_upstream() -> None:
    minimise = EXCHANGED["hazard_events"].minimise
    assert minimise is not None
    police = {"source": "police", "category_name": "溺水", "description": "溺水 报警人张三称，回拨电话138****5678"}
    weather = {"source": "weather", "category_name": "暴雨", "description": "海州街道 1小时降水 62.3 mm"}
    assert minimise(police)["description"] == "溺水"
    assert minimise(weather) == weather


def test_canonical_json_and_signature_follow_the_contract() -> None:
    assert canonical_json({"b": 1, "a": "海城"}) == '{"a":"海城","b":1}'.encode()
    body = b'{"x":1}'
    expected_message = f"POST\n/api/exchange/v1/batches\n1700000000\nn1\n{hashlib.sha256(body).hexdigest()}"
    expected = hmac.new(b"secret", expected_message.encode(), hashlib.sha256).hexdigest()
    assert sign("secret", "post", "/api/exchange/v1/batches", "1700000000", "n1", body) == expected


def test_batches_respect_the_record_limit_and_hash_their_records() -> None:
    records = [{"record_id": f"r{i}", "op": "upsert", "version": 1, "data": {"i": i}} for i in range(2501)]
    chunks = _chunks(records)
    assert [len(c) for c in chunks] == [MAX_RECORDS, MAX_RECORDS, 501]
    assert_each_record_in_exactly_one_batch(records, chunks)
    body = json.loads(_batch_body("hazard_events", "210381-hazard_events-x-000001", chunks[2], datetime.now(UTC)))
    assert body["record_count"] == 501 and body["region_code"] == "210381"
    assert body["records_sha256"] == hashlib.sha256(canonical_json(body["records"])).hexdigest()


def test_batches_respect_the_size_limit() -> None:
    big = "x" * 20000
    records = [{"record_id": f"r{i}", "op": "upsert", "version": 1, "data": {"t": big}} for i in range(600)]
    chunks = _chunks(records)
    assert len(chunks) == 3  # 12 MB of records: two full batches of about 5 MB and the rest
    assert_each_record_in_exactly_one_batch(records, chunks)
    for seq, chunk in enumerate(chunks, 1):
        body = _batch_body("hazard_events", f"210381-hazard_events-20261128T1400-{seq:06d}", chunk, datetime.now(UTC))
        assert len(body) <= MAX_BYTES  # the whole body, envelope included


def test_records_of_mixed_sizes_fill_batches_in_order_and_each_goes_once() -> None:
    sizes = [10, 900_000, 50, 2_000_000, 3_000_000, 10, 4_500_000, 10, 700_000]
    records = [
        {"record_id": f"r{i}", "op": "upsert", "version": 1, "data": {"t": "x" * n}} for i, n in enumerate(sizes)
    ]
    records.insert(4, {"record_id": "gone", "op": "delete", "version": 2})
    chunks = _chunks(records)
    assert_each_record_in_exactly_one_batch(records, chunks)
    assert all(len(_batch_body("hazard_events", "b", c, datetime.now(UTC))) <= MAX_BYTES for c in chunks)
    # A batch closes only when the next record would not fit.
    assert [[r["record_id"] for r in c] for c in chunks] == [
        ["r0", "r1", "r2", "r3", "gone"],
        ["r4", "r5"],
        ["r6", "r7", "r8"],
    ]


def test_no_records_make_no_batch() -> None:
    assert _chunks([]) == []
