"""The transport stand-in speaks transport.md: OAuth, cursor pages, shared stamps, Haicheng data, faults."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standins.transport import create_app
from standins.transport.credit_code import is_valid
from starlette.testclient import TestClient

NOW = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
REFERENCE = Path("/work/shared/reference/haicheng_divisions_2022.csv")
TOWN_CODES = {row["code12"] for row in csv.DictReader(REFERENCE.open(encoding="utf-8")) if row["level"] == "town"}
RESOURCES = ("road-events", "bridges", "hazmat/carriers", "hazmat/waybills")
KEYS = {
    "road-events": "event_id",
    "bridges": "bridge_code",
    "hazmat/carriers": "credit_code",
    "hazmat/waybills": "waybill_no",
}
FORM = {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "sec"}


def client(seed: int = 7, scale: float = 0.5, **faults: object) -> TestClient:
    app = create_app(client_id="cid", client_secret="sec", seed=seed, scale=scale, rate_limit_per_second=None)
    app.state.clock.freeze(NOW)
    c = TestClient(app)
    login(c)
    app.state.service.faults.update(faults)
    return c


def login(c: TestClient) -> None:
    token = c.post("/oauth/token", data=FORM).json()["access_token"]
    c.headers["Authorization"] = f"Bearer {token}"


def read_all(c: TestClient, resource: str, limit: int = 500, **params: str) -> tuple[list[dict], int]:
    records, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        answer = c.get(f"/v2/{resource}", params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        records += body["data"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return records, pages


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict]]:
    c = client(scale=1.0)
    return {r: read_all(c, r)[0] for r in RESOURCES}


def test_token_endpoint_follows_rfc6749() -> None:
    c = TestClient(create_app(client_id="cid", client_secret="sec", faults={"token_ttl_seconds": 5}))
    ok = c.post("/oauth/token", data=FORM)
    assert ok.json()["token_type"] == "Bearer" and ok.json()["expires_in"] == 5
    assert ok.headers["cache-control"] == "no-store"
    assert c.post("/oauth/token", data={**FORM, "client_secret": "x"}).json()["error"] == "invalid_client"
    assert c.post("/oauth/token", data={**FORM, "grant_type": "password"}).status_code == 400
    assert c.post("/oauth/token", json=FORM).json()["error"] == "invalid_request"
    refused = c.get("/v2/bridges")
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer")


def test_token_expires_by_the_sandbox_clock_and_after_max_uses() -> None:
    c = client(token_max_uses=2)
    assert [c.get("/v2/bridges", params={"limit": 1}).status_code for _ in range(3)] == [200, 200, 401]
    c = client()
    c.app.state.clock.advance(timedelta(seconds=601))
    assert c.get("/v2/bridges").json()["error"] == "invalid_token"


def test_lists_are_ordered_by_updated_at_then_id_and_pages_cover_everything_once(data) -> None:
    c = client(scale=1.0)
    for resource in RESOURCES:
        small, pages = read_all(c, resource, limit=17)
        assert pages > 1
        assert small == data[resource]
        order = [(datetime.fromisoformat(r["updated_at"]), r[KEYS[resource]]) for r in small]
        assert order == sorted(order) and len(set(order)) == len(order)
    assert c.get("/v2/bridges", params={"limit": 501}).status_code == 400
    assert c.get("/v2/bridges", params={"cursor": "garbage"}).status_code == 400


def test_updated_since_is_inclusive_and_many_records_share_one_stamp(data) -> None:
    c = client(scale=1.0)
    for resource in ("bridges", "hazmat/waybills"):
        stamps = Counter(r["updated_at"] for r in data[resource])
        assert max(stamps.values()) >= 5, resource
    shared = Counter(r["updated_at"] for r in data["hazmat/waybills"]).most_common(1)[0][0]
    since, _ = read_all(c, "hazmat/waybills", updated_since=shared)
    assert all(r["updated_at"] >= shared for r in since)
    expected = sum(r["updated_at"] == shared for r in data["hazmat/waybills"])
    assert sum(r["updated_at"] == shared for r in since) == expected
    naive, _ = read_all(c, "hazmat/waybills", updated_since=shared[:19])  # no offset: Asia/Shanghai
    assert naive == since


def test_data_looks_like_haicheng(data) -> None:
    events, bridges, carriers, waybills = (data[r] for r in RESOURCES)
    assert {e["road_code"] for e in events} <= {"G15", "G202", "S321", "X052"}
    assert all(re.fullmatch(r"K\d+\+\d{3}", e["stake_from"]) for e in events)
    assert {e["division_code"] for e in events + bridges + carriers} <= TOWN_CODES
    assert {4, 5} <= {b["tech_grade"] for b in bridges}
    assert all(is_valid(c["credit_code"]) for c in carriers)
    assert all(is_valid(w["carrier_credit_code"]) and is_valid(w["consignor_credit_code"]) for w in waybills)
    assert all(re.fullmatch(r"\d{4}", w["un_no"]) for w in waybills)
    assert {"1203", "1075", "1005", "1830", "1791"} <= {w["un_no"] for w in waybills}
    classes = {"1.1", "2.1", "2.2", "2.3", "3", "4.1", "4.3", "5.1", "6.1", "8", "9"}
    assert {w["hazard_class"] for w in waybills} <= classes
    places = {w["origin_division_code"] for w in waybills} | {w["destination_division_code"] for w in waybills}
    outside = places - TOWN_CODES
    assert outside and all(re.fullmatch(r"21\d{4}000000", p) and not p.startswith("210381") for p in outside)
    assert {w["status"] for w in waybills} >= {"已派车", "运输中", "已送达", "已取消"}
    assert any(e["deleted"] for e in events) and any(w["deleted"] for w in waybills)


def test_same_seed_same_data_other_seed_other_data(data) -> None:
    assert read_all(client(scale=1.0), "hazmat/carriers")[0] == data["hazmat/carriers"]
    assert read_all(client(seed=8, scale=1.0), "hazmat/carriers")[0] != data["hazmat/carriers"]


def test_moving_the_clock_brings_new_changes() -> None:
    c = client()
    before, _ = read_all(c, "hazmat/waybills")
    c.post("/__admin/clock", json={"advance_seconds": 6 * 3600})
    login(c)  # the token expired with the time that passed
    after, _ = read_all(c, "hazmat/waybills", updated_since=max(r["updated_at"] for r in before))
    assert len(after) > 5


def test_admin_upsert_and_delete_with_a_chosen_stamp_and_tombstone_comes_back_once() -> None:
    c = client()
    bridges, _ = read_all(c, "bridges")
    target = bridges[0]["bridge_code"]
    stamp = "2026-11-28T18:00:00+08:00"
    added = c.post(
        "/__admin/records/bridges",
        json={"upsert": [{"bridge_code": "G1210381L9999", "name": "新桥"}], "delete": [target], "updated_at": stamp},
    )
    assert added.json()["upserted"] == ["G1210381L9999"] and added.json()["deleted"] == [target]
    changes, _ = read_all(c, "bridges", updated_since=stamp)
    by_key = {r["bridge_code"]: r for r in changes}
    assert by_key[target]["deleted"] is True and by_key[target]["name"] == bridges[0]["name"]
    assert by_key["G1210381L9999"] == {**by_key["G1210381L9999"], "name": "新桥", "deleted": False, "updated_at": stamp}
    later, _ = read_all(c, "bridges", updated_since="2026-11-28T18:00:01+08:00")
    assert target not in {r["bridge_code"] for r in later}
    assert c.post("/__admin/records/bridges", json={"delete": [target]}).status_code == 404
    assert c.get("/__admin/records/bridges", params={"id": target}).json()["record"]["deleted"] is True


def test_duplicate_fault_serves_the_previous_pages_last_record_again() -> None:
    c = client(duplicate_rate=1.0)
    records, _ = read_all(c, "hazmat/carriers", limit=5)
    keys = [r["credit_code"] for r in records]
    assert len(keys) > len(set(keys))


def test_malformed_and_drift_faults_change_records() -> None:
    clean, _ = read_all(client(), "hazmat/waybills")
    broken, _ = read_all(client(malformed_rate=0.2), "hazmat/waybills")
    assert len(broken) == len(clean) and 0 < sum(a != b for a, b in zip(clean, broken, strict=True)) < len(clean)
    drifted, _ = read_all(client(drift_hazmat_waybills=True, new_field=True), "hazmat/waybills")
    assert all("un_no" not in r and "un_number" in r and "tank_volume_m3" in r for r in drifted)
    events, _ = read_all(client(drift_hazmat_waybills=True), "road-events")
    assert all("road_code" in r for r in events)


def test_gateway_faults() -> None:
    assert client(outage=True).get("/v2/bridges").status_code == 503
    c = client(fail_429_rate=1.0)
    answer = c.get("/v2/bridges")
    assert answer.status_code == 429 and answer.headers["retry-after"] == "1"
