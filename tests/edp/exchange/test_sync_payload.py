from __future__ import annotations

import hashlib
import json

from edp.exchange.city_client import canonical_json, sign
from edp.exchange.sync import EXCHANGED, _batch_body, _chunks


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
    import hmac

    expected = hmac.new(b"secret", expected_message.encode(), hashlib.sha256).hexdigest()
    assert sign("secret", "post", "/api/exchange/v1/batches", "1700000000", "n1", body) == expected


def test_batches_respect_the_record_limit_and_hash_their_records() -> None:
    records = [{"record_id": f"r{i}", "op": "upsert", "version": 1, "data": {"i": i}} for i in range(2501)]
    chunks = _chunks(records)
    assert [len(c) for c in chunks] == [1000, 1000, 501]
    from datetime import UTC, datetime

    body = json.loads(_batch_body("hazard_events", "210381-hazard_events-x-000001", chunks[2], datetime.now(UTC)))
    assert body["record_count"] == 501 and body["region_code"] == "210381"
    assert body["records_sha256"] == hashlib.sha256(canonical_json(body["records"])).hexdigest()


def test_batches_respect_the_size_limit() -> None:
    big = "x" * 20000
    records = [{"record_id": f"r{i}", "op": "upsert", "version": 1, "data": {"t": big}} for i in range(600)]
    chunks = _chunks(records)
    assert len(chunks) > 1
    assert all(len(canonical_json(c)) < 5 * 1024 * 1024 for c in chunks)
