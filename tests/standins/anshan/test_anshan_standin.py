"""The 鞍山市 exchange stand-in, over real HTTP on loopback, signed like the county client."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from standins.anshan.batches import canonical_records_sha256

pytestmark = pytest.mark.integration

BATCHES = "/api/exchange/v1/batches"
RECONCILIATION = "/api/exchange/v1/reconciliation"
FEEDBACK = "/api/exchange/v1/feedback"


def make_batch(records: list[Any], seq: int = 1, dataset: str = "hazard_events") -> dict[str, Any]:
    return {
        "batch_id": f"210381-{dataset}-20261128T0100-{seq:06d}",
        "region_code": "210381",
        "dataset": dataset,
        "schema_version": "1.0",
        "generated_at": "2026-11-28T01:00:03+08:00",
        "record_count": len(records),
        "records_sha256": canonical_records_sha256(records),
        "records": records,
    }


def upsert(record_id: str, version: int, **data: Any) -> dict[str, Any]:
    return {"record_id": record_id, "op": "upsert", "version": version, "data": {"地点": "孤山镇", **data}}


def kept(client, dataset: str = "hazard_events") -> dict[str, dict[str, Any]]:
    reply = client.http.get("/__admin/records", params={"dataset": dataset})
    assert reply.status_code == 200
    return {r["record_id"]: r for r in reply.json()["records"]}


def test_signed_batch_gets_receipt_and_can_be_looked_up(anshan):
    client = anshan()
    batch = make_batch([upsert("HE-1", 1, 雨量=62.5), upsert("HE-2", 1)])
    reply = client.post_batch(batch)
    assert reply.status_code == 200, reply.text
    receipt = reply.json()
    assert set(receipt) == {"receipt_id", "batch_id", "accepted", "rejected"}
    assert receipt["batch_id"] == batch["batch_id"]
    assert receipt["accepted"] == 2 and receipt["rejected"] == []
    looked_up = client.get(f"{BATCHES}/{batch['batch_id']}")
    assert looked_up.status_code == 200 and looked_up.json() == receipt
    assert client.get(f"{BATCHES}/210381-hazard_events-never").status_code == 404
    assert kept(client)["HE-1"]["data"] == {"地点": "孤山镇", "雨量": 62.5}


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"secret": "wrong-secret"}, "X-Signature"),
        ({"app_key": "someone-else"}, "X-App-Key"),
        ({"timestamp_shift": -301}, "X-Timestamp"),
        ({"timestamp_shift": 400}, "X-Timestamp"),
    ],
)
def test_auth_failures_are_401_naming_the_check(anshan, clock, overrides, fragment):
    client = anshan()
    shift = overrides.pop("timestamp_shift", 0)
    if shift:
        overrides["timestamp"] = int(clock().timestamp()) + shift
    reply = client.post_batch(make_batch([upsert("HE-1", 1)]), **overrides)
    assert reply.status_code == 401
    assert fragment in reply.json()["error"]
    assert client.http.get("/__admin/stats").json()["batches"] == 0


def test_timestamp_within_300_seconds_is_fine(anshan, clock):
    client = anshan()
    reply = client.post_batch(make_batch([upsert("HE-1", 1)]), timestamp=int(clock().timestamp()) - 299)
    assert reply.status_code == 200


def test_reused_nonce_is_401(anshan):
    client = anshan()
    first = client.get(FEEDBACK, {"since": "2026-11-01T00:00:00+08:00"}, nonce="same-nonce")
    again = client.get(FEEDBACK, {"since": "2026-11-01T00:00:00+08:00"}, nonce="same-nonce")
    assert first.status_code == 200
    assert again.status_code == 401 and "X-Nonce" in again.json()["error"]


def test_unsigned_and_tampered_requests_are_401(anshan):
    client = anshan()
    assert client.http.get(FEEDBACK, params={"since": "2026-11-01"}).status_code == 401
    body = json.dumps(make_batch([upsert("HE-1", 1)])).encode()
    headers = client.headers("POST", BATCHES, body)
    tampered = body.replace(b"HE-1", b"HE-9")
    reply = client.http.post(BATCHES, content=tampered, headers={**headers, "Idempotency-Key": "x"})
    assert reply.status_code == 401 and "X-Signature" in reply.json()["error"]


def test_same_key_same_body_returns_same_receipt_once_stored(anshan):
    client = anshan()
    batch = make_batch([upsert("HE-1", 1), upsert("HE-2", 1)])
    first = client.post_batch(batch)
    second = client.post_batch(batch)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    stats = client.http.get("/__admin/stats").json()
    assert stats["batches"] == 1 and stats["records"] == 2
    reconciliation = client.get(RECONCILIATION, {"dataset": "hazard_events", "date": "2026-11-28"}).json()
    assert reconciliation["batches"] == 1 and reconciliation["records"] == 2


def test_same_key_different_body_is_422(anshan):
    client = anshan()
    assert client.post_batch(make_batch([upsert("HE-1", 1)])).status_code == 200
    changed = make_batch([upsert("HE-1", 2)])
    reply = client.post_batch(changed)
    assert reply.status_code == 422
    assert kept(client)["HE-1"]["version"] == 1


def test_more_than_1000_records_is_413(anshan):
    client = anshan()
    reply = client.post_batch(make_batch([upsert(f"HE-{i}", 1) for i in range(1001)]))
    assert reply.status_code == 413
    assert client.post_batch(make_batch([upsert(f"HE-{i}", 1) for i in range(1000)], seq=2)).status_code == 200


def test_body_over_5_mb_is_413(anshan):
    client = anshan()
    reply = client.post_batch(make_batch([upsert("HE-1", 1, blob="x" * 5_000_001)]))
    assert reply.status_code == 413


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"records_sha256": "0" * 64}, "records_sha256"),
        ({"record_count": 3}, "record_count"),
        ({"region_code": "210300"}, "region_code"),
        ({"dataset": "weather"}, "dataset"),
        ({"batch_id": "210381-hazard_events-other"}, "Idempotency-Key"),
        ({"generated_at": "yesterday"}, "generated_at"),
        ({"records": "none"}, "records"),
    ],
)
def test_malformed_batches_are_400_with_reason(anshan, change, fragment):
    client = anshan()
    batch = make_batch([upsert("HE-1", 1)])
    key = batch["batch_id"]
    batch.update(change)
    reply = client.post_batch(batch, idempotency_key=key)
    assert reply.status_code == 400
    assert fragment in reply.json()["error"]


def test_idempotency_key_is_required_and_body_must_be_json(anshan):
    client = anshan()
    reply = client.post_batch(make_batch([upsert("HE-1", 1)]), idempotency_key="")
    assert reply.status_code == 400 and "Idempotency-Key" in reply.json()["error"]
    not_json = client.post_batch(b"{not json", idempotency_key="k")
    assert not_json.status_code == 400 and "JSON" in not_json.json()["error"]


def test_canonical_hash_covers_chinese_text_unescaped(anshan):
    client = anshan()
    records = [upsert("HE-1", 1, 名称="牌楼镇泥石流隐患点")]
    batch = make_batch(records)
    assert (
        batch["records_sha256"]
        == hashlib.sha256(
            json.dumps(records, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        ).hexdigest()
    )
    assert client.post_batch(batch).status_code == 200
    escaped = dict(batch, batch_id="210381-hazard_events-escaped")
    escaped["records_sha256"] = hashlib.sha256(
        json.dumps(records, sort_keys=True, separators=(",", ":")).encode("utf-8")
    ).hexdigest()
    assert client.post_batch(escaped).status_code == 400


def test_invalid_records_rejected_rest_accepted(anshan):
    client = anshan()
    records = [
        upsert("HE-1", 1),
        {"record_id": "", "op": "upsert", "version": 1, "data": {}},
        {"record_id": "HE-3", "op": "replace", "version": 1, "data": {}},
        {"record_id": "HE-4", "op": "upsert", "version": 0, "data": {}},
        {"record_id": "HE-5", "op": "upsert", "version": 1},
        "not-a-record",
        {"record_id": "HE-7", "op": "delete", "version": 2},
    ]
    receipt = client.post_batch(make_batch(records)).json()
    assert receipt["accepted"] == 2
    assert [r["index"] for r in receipt["rejected"]] == [1, 2, 3, 4, 5]
    assert [r["record_id"] for r in receipt["rejected"]] == ["", "HE-3", "HE-4", "HE-5", None]
    assert all(r["reason"] for r in receipt["rejected"])
    assert set(kept(client)) == {"HE-1", "HE-7"}


def test_highest_version_wins_and_delete_marks_deleted(anshan):
    client = anshan()
    assert client.post_batch(make_batch([upsert("HE-1", 3, 级别="红色")], seq=1)).status_code == 200
    lower = client.post_batch(make_batch([upsert("HE-1", 2, 级别="蓝色")], seq=2))
    assert lower.status_code == 200 and lower.json()["accepted"] == 1
    record = kept(client)["HE-1"]
    assert record["version"] == 3 and record["data"]["级别"] == "红色" and not record["deleted"]
    deletion = {"record_id": "HE-1", "op": "delete", "version": 4}
    assert client.post_batch(make_batch([deletion], seq=3)).status_code == 200
    record = kept(client)["HE-1"]
    assert record["version"] == 4 and record["deleted"] and record["op"] == "delete"
    stale_upsert = client.post_batch(make_batch([upsert("HE-1", 4, 级别="黄色")], seq=4))
    assert stale_upsert.status_code == 200
    assert kept(client)["HE-1"]["deleted"]


def test_reconciliation_counts_and_xor(anshan, clock):
    client = anshan()
    first = make_batch([upsert("HE-1", 1), upsert("HE-2", 1)], seq=1)
    second = make_batch([upsert("HE-3", 1), {"record_id": "", "op": "upsert", "version": 1, "data": {}}], seq=2)
    other = make_batch([upsert("W-1", 1)], seq=3, dataset="warnings")
    for batch in (first, second, other):
        assert client.post_batch(batch).status_code == 200
    clock.advance(days=1)
    assert client.post_batch(make_batch([upsert("HE-4", 1)], seq=4)).status_code == 200

    day = client.get(RECONCILIATION, {"dataset": "hazard_events", "date": "2026-11-28"}).json()
    expected_xor = int(first["records_sha256"], 16) ^ int(second["records_sha256"], 16)
    assert day == {
        "dataset": "hazard_events",
        "date": "2026-11-28",
        "batches": 2,
        "records": 4,
        "records_sha256_xor": f"{expected_xor:064x}",
    }
    next_day = client.get(RECONCILIATION, {"dataset": "hazard_events", "date": "2026-11-29"}).json()
    assert next_day["batches"] == 1 and next_day["records"] == 1
    empty = client.get(RECONCILIATION, {"dataset": "resources", "date": "2026-11-28"}).json()
    assert empty["batches"] == 0 and empty["records_sha256_xor"] == "0" * 64
    assert client.get(RECONCILIATION, {"dataset": "hazard_events", "date": "28/11/2026"}).status_code == 400
    assert client.get(RECONCILIATION, {"dataset": "nope", "date": "2026-11-28"}).status_code == 400


def test_reconciliation_day_is_asia_shanghai(anshan, clock):
    client = anshan()
    # 23:30 on the 27th in UTC is 07:30 on the 28th in Haicheng.
    clock.now = clock.now.replace(day=28, hour=7, minute=30)
    assert client.post_batch(make_batch([upsert("HE-1", 1)])).status_code == 200
    assert client.get(RECONCILIATION, {"dataset": "hazard_events", "date": "2026-11-28"}).json()["batches"] == 1
    assert client.get(RECONCILIATION, {"dataset": "hazard_events", "date": "2026-11-27"}).json()["batches"] == 0


def test_restart_keeps_acknowledged_batches(anshan, tmp_path):
    state = tmp_path / "city"
    first = anshan(state_dir=state)
    batch = make_batch([upsert("HE-1", 5)])
    receipt = first.post_batch(batch).json()
    first.server.stop()

    second = anshan(state_dir=state)
    assert second.get(f"{BATCHES}/{batch['batch_id']}").json() == receipt
    assert second.post_batch(batch).json() == receipt
    assert second.http.get("/__admin/stats").json()["batches"] == 1
    assert kept(second)["HE-1"]["version"] == 5


def test_lost_reply_batch_is_stored_and_in_flight_key_is_409(anshan):
    client = anshan(faults={"lost_reply_rate": 1.0, "lost_reply_delay": 2.0})
    batch = make_batch([upsert("HE-1", 1)])
    body = json.dumps(batch).encode()
    headers = {**client.headers("POST", BATCHES, body), "Idempotency-Key": batch["batch_id"]}
    outcome: dict[str, Any] = {}

    def impatient_client() -> None:
        try:
            client.http.post(BATCHES, content=body, headers=headers, timeout=0.8)
        except httpx.TimeoutException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=impatient_client)
    thread.start()
    thread.join()
    assert isinstance(outcome.get("error"), httpx.ReadTimeout)

    # The reply is still pending on the server: the batch is committed, the key busy.
    assert client.get(f"{BATCHES}/{batch['batch_id']}").status_code == 200
    assert client.post_batch(body, idempotency_key=batch["batch_id"]).status_code == 409
    for _ in range(100):
        retry = client.post_batch(body, idempotency_key=batch["batch_id"])
        if retry.status_code != 409:
            break
        time.sleep(0.1)
    assert retry.status_code == 200 and retry.json()["accepted"] == 1
    assert client.http.get("/__admin/stats").json()["batches"] == 1


def test_feedback_raised_by_admin_is_listed_since(anshan, clock):
    client = anshan()
    raised = client.http.post(
        "/__admin/feedback", json={"dataset": "hazard_sites", "record_id": "HS-7", "reason": "坐标不在海城市内"}
    )
    assert raised.status_code == 201
    item = raised.json()
    assert set(item) == {"feedback_id", "dataset", "record_id", "reason", "raised_at"}
    listed = client.get(FEEDBACK, {"since": (clock.now - timedelta(minutes=1)).isoformat()})
    assert listed.status_code == 200 and listed.json() == [item]
    later = client.get(FEEDBACK, {"since": (clock.now + timedelta(seconds=1)).isoformat()})
    assert later.json() == []
    assert client.get(FEEDBACK).status_code == 400
    assert client.http.post("/__admin/feedback", json={"dataset": "x", "record_id": "1"}).status_code == 400


def test_doubt_rate_raises_feedback_for_new_versions(anshan, clock):
    client = anshan(faults={"doubt_rate": 1.0})
    assert client.post_batch(make_batch([upsert("HE-1", 1), upsert("HE-2", 1)])).status_code == 200
    doubted = client.get(FEEDBACK, {"since": "2026-11-01T00:00:00+08:00"}).json()
    assert sorted(d["record_id"] for d in doubted) == ["HE-1", "HE-2"]


def test_transient_faults(anshan):
    client = anshan(faults={"fail_503_rate": 1.0})
    assert client.post_batch(make_batch([upsert("HE-1", 1)])).status_code == 503
    client.http.post("/__admin/faults", json={"fail_503_rate": 0, "fail_429_rate": 1})
    limited = client.post_batch(make_batch([upsert("HE-1", 1)]))
    assert limited.status_code == 429 and limited.headers["Retry-After"].isdigit()
    client.http.post("/__admin/faults", json={"fail_429_rate": 0, "outage": True})
    assert client.get(FEEDBACK, {"since": "2026-11-01"}).status_code == 503
    client.http.post("/__admin/faults", json={"outage": False})
    assert client.post_batch(make_batch([upsert("HE-1", 1)])).status_code == 200
    stats = client.http.get("/__admin/stats").json()
    assert stats["requests"]["by_status"] == {"200": 1, "429": 1, "503": 2}
    assert stats["batches"] == 1


@pytest.mark.parametrize("without_storing", [False, True])
def test_the_lie_switch_answers_200s_that_are_not_the_receipt(anshan, without_storing):
    client = anshan()
    batch = make_batch([upsert("HE-1", 1), upsert("HE-2", 1)])
    switch = {"lie_without_storing": without_storing}
    answers = {}
    lies = ("wrong_batch_id", "short_accepted", "bad_digest", "foreign_rejected", "empty_body", "not_json", "oversized")
    for lie in lies:
        assert client.http.post("/__admin/faults", json={**switch, "lie": lie}).status_code == 200
        reply = client.post_batch(batch)
        assert reply.status_code == 200
        answers[lie] = reply
    assert answers["wrong_batch_id"].json()["batch_id"] == "210381-hazard_events-20261128T0100-999999"
    assert answers["short_accepted"].json()["accepted"] == 1
    assert answers["bad_digest"].json()["records_sha256"] != batch["records_sha256"]
    foreign = answers["foreign_rejected"].json()
    assert foreign["accepted"] == 1 and foreign["rejected"][0]["record_id"] == "not-a-record-of-this-batch"
    assert answers["empty_body"].content == b""
    assert answers["not_json"].headers["content-type"].startswith("text/html")
    assert len(answers["oversized"].content) > 3_000_000
    stats = client.http.get("/__admin/stats").json()
    assert stats["batches"] == (0 if without_storing else 1)  # stored once, or never
    lookup = client.get(f"{BATCHES}/{batch['batch_id']}")
    assert lookup.status_code == (404 if without_storing else 200)
    if not without_storing:
        assert "padding" in lookup.json()  # the lookup lies too (the last lie set: oversized)
    client.http.post("/__admin/faults", json={"lie": ""})
    honest = client.post_batch(batch)
    assert honest.json() == {
        "receipt_id": honest.json()["receipt_id"],
        "batch_id": batch["batch_id"],
        "accepted": 2,
        "rejected": [],
    }
    assert client.http.get("/__admin/stats").json()["batches"] == 1


def test_an_unknown_lie_is_refused(anshan):
    client = anshan()
    reply = client.http.post("/__admin/faults", json={"lie": "sometimes"})
    assert reply.status_code == 400 and "lie must be one of" in reply.json()["error"]
    assert client.http.post("/__admin/faults", json={"lie": 1}).status_code == 400
    assert client.http.get("/__admin/faults").json()["lie"] == ""


def test_rejection_rules_reject_records_in_the_receipt(anshan):
    client = anshan()
    rule = {"dataset": "hazard_events", "record_id": "HE-2", "version": 1, "reason": "坐标越界"}
    assert client.http.post("/__admin/rejections", json=rule).status_code == 200
    assert client.http.post("/__admin/rejections", json={**rule, "version": 0}).status_code == 400
    receipt = client.post_batch(make_batch([upsert("HE-1", 1), upsert("HE-2", 1), upsert("HE-3", 1)])).json()
    assert receipt["accepted"] == 2
    assert receipt["rejected"] == [{"index": 1, "record_id": "HE-2", "reason": "坐标越界"}]
    assert set(kept(client)) == {"HE-1", "HE-3"}
    corrected = client.post_batch(make_batch([upsert("HE-2", 2)], seq=2)).json()
    assert corrected["accepted"] == 1 and corrected["rejected"] == []
    assert client.http.request("DELETE", "/__admin/rejections").json() == []
