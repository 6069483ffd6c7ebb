"""Transport connector on recorded-style responses (given / when / then), no server."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs

import httpx
import pytest

from connectors.base import Page
from connectors.http import SourceRejected
from connectors.transport.cursor import Cursor
from connectors.transport.datasets import HAZMAT_WAYBILLS, ROAD_EVENTS
from connectors.transport.source import TransportSource
from edp.ingest.extract import _Typed, type_page

CST = timezone(timedelta(hours=8))
T = datetime(2026, 11, 28, 18, 30, tzinfo=CST)
UNTIL = T + timedelta(hours=1)
SECRET = "s3cret-value"

WAYBILL = {
    "waybill_no": "YD2103812026112818001",
    "carrier_credit_code": "91210381MA0QDRRX1L",
    "consignor_credit_code": "91210211616186480K",
    "plate_no": "辽C58430",
    "goods_name": "汽油",
    "un_no": "1203",
    "hazard_class": "3",
    "weight_t": 28.5,
    "origin_address": "辽宁省大连市甘井子区石化路1号",
    "origin_division_code": "210211000000",
    "destination_address": "海城市海州街道海州路96号",
    "destination_division_code": "210381001000",
    "depart_time": "2026-11-28T15:07:57+08:00",
    "arrive_time": None,
    "status": "运输中",
    "updated_at": T.isoformat(),
    "deleted": False,
}


def waybill(no: str, at: datetime = T, **changes: object) -> dict:
    return {**WAYBILL, "waybill_no": no, "updated_at": at.isoformat(), **changes}


class FakeBureau:
    """Token endpoint + one list resource with the contract's paging (inclusive updated_since)."""

    def __init__(self, records: list[dict], page_size: int = 2) -> None:
        self.records = sorted(records, key=lambda r: (r["updated_at"], r["waybill_no"]))
        self.page_size = page_size
        self.requests: list[httpx.Request] = []
        self.tokens: list[str] = []
        self.live: set[str] = set()
        self.script: list[httpx.Response] = []  # answers to give first, instead of the real one
        self.statuses: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self._answer(request)
        self.requests.append(request)
        self.statuses.append(response.status_code)
        return response

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if self.script:
            return self.script.pop(0)
        if request.url.path == "/oauth/token":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            if form != {"grant_type": "client_credentials", "client_id": "cid", "client_secret": SECRET}:
                return httpx.Response(401, json={"error": "invalid_client", "error_description": "bad client"})
            token = f"tok{len(self.tokens)}"
            self.tokens.append(token)
            self.live = {token}
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": 600})
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.live:
            return httpx.Response(401, json={"error": "invalid_token", "error_description": "expired"})
        return self._list(request.url.params)

    def _list(self, params: httpx.QueryParams) -> httpx.Response:
        rows = self.records
        if "updated_since" in params:
            since = datetime.fromisoformat(params["updated_since"])
            rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= since]
        start = int(base64.b64decode(params["cursor"])) if "cursor" in params else 0
        page = rows[start : start + self.page_size]
        more = start + self.page_size < len(rows)
        token = base64.b64encode(str(start + self.page_size).encode()).decode() if more else None
        return httpx.Response(200, json={"data": page, "next_cursor": token})

    def list_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/v2/")]


def source(bureau: FakeBureau, **kwargs: object) -> TransportSource:
    src = TransportSource("http://transport.test", "cid", SECRET, rate_per_second=0, **kwargs)  # type: ignore[arg-type]
    src.http.client = httpx.Client(base_url="http://transport.test", transport=httpx.MockTransport(bureau))
    return src


def test_pages_are_followed_with_one_cached_bearer_token_and_bodies_kept_as_sent() -> None:
    bureau = FakeBureau([waybill("YD1", T - timedelta(minutes=10)), waybill("YD2"), waybill("YD3")])
    src = source(bureau)
    pages = list(src.read("hazmat_waybills", None, UNTIL))
    assert [[r["waybill_no"] for r in p.records] for p in pages] == [["YD1", "YD2"], ["YD3"]]
    assert bureau.tokens == ["tok0"]
    assert all(r.headers["authorization"] == "Bearer tok0" for r in bureau.list_requests())
    assert json.loads(pages[0].body)["data"][0]["waybill_no"] == "YD1"  # the original bytes
    assert pages[0].cursor is None
    assert pages[-1].cursor == Cursor.of_group(T, ["YD2", "YD3"]).encode()
    assert bureau.list_requests()[0].url.params["limit"] == "500"
    assert "updated_since" not in bureau.list_requests()[0].url.params


def test_next_run_asks_inclusive_updated_since_and_drops_the_loaded_group_across_a_page_boundary() -> None:
    bureau = FakeBureau([waybill("YD2"), waybill("YD3"), waybill("YD4"), waybill("YD0", T + timedelta(minutes=10))])
    stored = Cursor.of_group(T, ["YD2", "YD3", "YD4"]).encode()
    pages = list(source(bureau).read("hazmat_waybills", stored, UNTIL))
    assert bureau.list_requests()[0].url.params["updated_since"] == "2026-11-28T18:30:00+08:00"
    assert [[r["waybill_no"] for r in p.records] for p in pages] == [[], ["YD0"]]
    assert Cursor.decode(pages[-1].cursor).last_id == "YD0"


def test_since_exclusive_option_asks_one_second_earlier() -> None:
    bureau = FakeBureau([waybill("YD2")])
    stored = Cursor.of_group(T, ["YD2"]).encode()
    pages = list(source(bureau, since_exclusive=True).read("hazmat_waybills", stored, UNTIL))
    assert bureau.list_requests()[0].url.params["updated_since"] == "2026-11-28T18:29:59+08:00"
    assert pages[0].records == []


def test_token_is_renewed_shortly_before_it_expires_without_a_401() -> None:
    bureau = FakeBureau([waybill("YD1"), waybill("YD2"), waybill("YD3")], page_size=1)
    src = source(bureau)
    now = [0.0]
    src.auth._clock = lambda: now[0]
    answers = src.read("hazmat_waybills", None, UNTIL)
    next(answers)
    now[0] = 571.0  # expires_in 600, renewed 30 s early
    list(answers)
    assert bureau.tokens == ["tok0", "tok1"]
    assert 401 not in bureau.statuses
    assert [r.headers["authorization"] for r in bureau.list_requests()] == ["Bearer tok0", "Bearer tok1", "Bearer tok1"]


def test_expired_token_mid_run_gets_a_new_token_and_the_call_is_repeated_once() -> None:
    bureau = FakeBureau([waybill("YD1"), waybill("YD2"), waybill("YD3")], page_size=1)
    src = source(bureau)
    answers = src.read("hazmat_waybills", None, UNTIL)
    first = next(answers)
    bureau.live = set()  # the bureau expired the token early
    rest = list(answers)
    assert [r["waybill_no"] for p in [first, *rest] for r in p.records] == ["YD1", "YD2", "YD3"]
    assert bureau.tokens == ["tok0", "tok1"]
    assert bureau.statuses.count(401) == 1
    second_call = [r for r in bureau.list_requests() if r.url.params.get("cursor")]
    assert [r.headers["authorization"] for r in second_call[:2]] == ["Bearer tok0", "Bearer tok1"]


def test_a_second_401_with_a_fresh_token_is_a_clear_rejection() -> None:
    bureau = FakeBureau([waybill("YD1")])
    src = source(bureau)
    refused = httpx.Response(401, json={"error": "invalid_token", "error_description": "the access token was revoked"})
    token = httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 600})
    bureau.script = [token, refused, token, refused]
    expected = "401 again with a token issued just now invalid_token: the access token was revoked"
    with pytest.raises(SourceRejected, match=expected) as info:
        list(src.read("hazmat_waybills", None, UNTIL))
    assert info.value.status == 401


def test_wrong_client_secret_is_rejected_clearly_without_leaking_it() -> None:
    src = TransportSource("http://transport.test", "cid", "wrong-secret", rate_per_second=0)
    bureau = FakeBureau([])
    src.http.client = httpx.Client(base_url="http://transport.test", transport=httpx.MockTransport(bureau))
    expected = r"refused our client credentials \(HTTP 401 invalid_client: bad client\)"
    with pytest.raises(SourceRejected, match=expected) as info:
        list(src.read("road_events", None, UNTIL))
    assert "wrong-secret" not in str(info.value)
    result = src.check()
    assert not result.ok and "invalid_client" in result.message


def test_429_and_503_are_retried_for_the_token_and_the_pages() -> None:
    bureau = FakeBureau([waybill("YD1")])
    busy = httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "too many requests"})
    down = httpx.Response(503, headers={"Retry-After": "0"}, json={"error": "service temporarily unavailable"})
    bureau.script = [down, busy]
    src = source(bureau)
    pages = list(src.read("hazmat_waybills", None, UNTIL))
    assert [r["waybill_no"] for r in pages[0].records] == ["YD1"]
    assert src.http.retries == 2


def test_a_body_without_data_stops_with_the_request_named() -> None:
    bureau = FakeBureau([])
    token = httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 600})
    bureau.script = [token, httpx.Response(200, json={"items": []})]
    with pytest.raises(SourceRejected, match=r"GET /v2/bridges\?limit=500 answered a body that is not"):
        list(source(bureau).read("bridges", None, UNTIL))


def test_normalise_quarantines_bad_records_and_keeps_tombstones() -> None:
    src = source(FakeBureau([]))
    records = [
        waybill("YD1", un_no=81, hazard_class="1.1"),  # a JSON number lost the leading zero of 0081
        waybill("YD2", un_no="12O3"),
        waybill("YD3", deleted=True, status="已取消"),
        {k: v for k, v in waybill("YD4").items() if k != "deleted"},
    ]
    typed = _Typed()
    type_page(src, HAZMAT_WAYBILLS, Page(b"{}", "application/json", records, "x"), "landing/p.json.gz", typed)
    rows = {key[0]: row for key, row in typed.rows.items()}
    assert rows["YD1"]["un_no"] == "0081"
    assert rows["YD3"]["deleted"] is True and rows["YD4"]["deleted"] is False
    assert rows["YD1"]["plate_no"] == "辽C58430"  # a dangerous-goods vehicle: kept in clear
    assert rows["YD1"]["updated_at"] == T.astimezone(UTC)
    (bad,) = typed.quarantined
    assert (bad["field"], bad["locator"]) == ("un_no", "landing/p.json.gz record 1")


@pytest.mark.parametrize(("field", "value"), [("lat", 4085.6), ("lon", "122,7531"), ("lon", -190)])
def test_coordinates_out_of_range_or_unreadable_are_quarantined(field: str, value: object) -> None:
    src = source(FakeBureau([]))
    event = {
        "event_id": "RE21038120261128160",
        "type": "事故",
        "road_code": "G15",
        "status": "进行中",
        "lon": 122.75,
        "lat": 40.85,
        "updated_at": T.isoformat(),
        field: value,
    }
    typed = _Typed()
    type_page(src, ROAD_EVENTS, Page(b"{}", "application/json", [event], "x"), "landing/p.json.gz", typed)
    assert not typed.rows
    assert typed.quarantined[0]["field"] == field
