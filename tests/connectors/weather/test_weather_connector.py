"""Weather connector on recorded responses (given / when / then)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from connectors.weather.source import OBSERVATIONS, WeatherSource
from edp.ingest.extract import _Typed, type_page

OBS = {
    "station_id": "54471",
    "obs_time": "2026-11-28T13:00:00+08:00",
    "temp_c": 2.5,
    "precip_1h_mm": 999999,
    "wind_speed_ms": 3.1,
    "wind_gust_ms": 7.9,
    "wind_dir_deg": 270,
    "rh_pct": 61,
    "visibility_m": 999999,
    "pressure_hpa": 1021.3,
    "qc": 0,
    "updated_at": "2026-11-28T13:05:00+08:00",
}


def _source(pages: list[dict], seen: list[httpx.Request]) -> WeatherSource:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        token = request.url.params.get("page_token")
        index = int(token) if token else 0
        return httpx.Response(200, json=pages[index])

    src = WeatherSource("http://weather.test", "k", lookback_hours=6, initial_days=1)
    src.http.client = httpx.Client(
        base_url="http://weather.test", transport=httpx.MockTransport(handler), headers={"X-Api-Key": "k"}
    )
    src.http.limiter.interval = 0
    return src


def test_follows_pages_and_sets_cursor_to_window_end() -> None:
    pages = [
        {"observations": [OBS], "next_page_token": "1"},
        {"observations": [{**OBS, "station_id": "A3817"}], "next_page_token": None},
    ]
    seen: list[httpx.Request] = []
    src = _source(pages, seen)
    until = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
    got = list(src.read("observations", None, until))
    assert [len(p.records) for p in got] == [1, 1]
    assert got[-1].cursor == "2026-11-28T14:00:00+08:00"
    assert got[0].cursor is None
    assert seen[0].headers["X-Api-Key"] == "k"
    assert seen[1].url.params["page_token"] == "1"
    assert seen[0].url.params["start"] == "2026-11-27T14:00:00+08:00"


def test_cursor_is_read_back_with_lookback() -> None:
    seen: list[httpx.Request] = []
    src = _source([{"observations": [], "next_page_token": None}], seen)
    list(src.read("observations", "2026-11-28T12:00:00+08:00", datetime(2026, 11, 28, 6, tzinfo=UTC)))
    assert seen[0].url.params["start"] == "2026-11-28T06:00:00+08:00"


def test_missing_value_convention_becomes_null_and_bad_rows_are_quarantined() -> None:
    seen: list[httpx.Request] = []
    bad = {**OBS, "station_id": "A0001", "obs_time": "not-a-time"}
    src = _source([{"observations": [OBS, bad, OBS], "next_page_token": None}], seen)
    page = next(src.read("observations", "2026-11-28T12:00:00+08:00", datetime(2026, 11, 28, 6, tzinfo=UTC)))
    typed = _Typed()
    type_page(src, OBSERVATIONS, page, "landing/x/page-00001.json.gz", typed)
    assert typed.source_rows == 3
    assert typed.duplicates == 1
    (row,) = typed.rows.values()
    assert row["precip_1h_mm"] is None and row["visibility_m"] is None
    assert row["temp_c"] == 2.5
    (q,) = typed.quarantined
    assert q["field"] == "obs_time"
    assert q["locator"] == "landing/x/page-00001.json.gz record 1"
    assert json.dumps(q["record"])  # the original record is kept whole
