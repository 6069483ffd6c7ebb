"""The weather bureau stand-in, over real HTTP on loopback."""

from __future__ import annotations

import csv
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standins.common.timefmt import CST
from standins.weather import create_app

pytestmark = pytest.mark.integration

KEY = {"X-Api-Key": "test-weather-key"}
NOW = datetime(2026, 11, 28, 10, 30, tzinfo=CST)
REFERENCE_CSV = Path("/work/shared/reference/haicheng_divisions_2022.csv")
NUMERIC = (
    "temp_c",
    "precip_1h_mm",
    "wind_speed_ms",
    "wind_gust_ms",
    "wind_dir_deg",
    "rh_pct",
    "visibility_m",
    "pressure_hpa",
)


def window(hours_back: float, hours_forward: float = 1.0) -> dict[str, str]:
    return {
        "start": (NOW - timedelta(hours=hours_back)).isoformat(),
        "end": (NOW + timedelta(hours=hours_forward)).isoformat(),
    }


def fetch_all(client: httpx.Client, params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    token = None
    for _ in range(10_000):
        query = dict(params)
        if token:
            query["page_token"] = token
        reply = client.get("/api/v1/observations", params=query, headers=KEY)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert set(body) == {"observations", "next_page_token"}
        rows.extend(body["observations"])
        token = body["next_page_token"]
        if token is None:
            return rows
    raise AssertionError("paging never ended")


def test_paging_covers_window_exactly_once(weather):
    client = weather(rate_limit_per_second=None)
    params = window(48, 0)
    paged = fetch_all(client, {**params, "page_size": 97})
    whole = fetch_all(client, {**params, "page_size": 5000})

    keys = [(datetime.fromisoformat(r["obs_time"]), r["station_id"]) for r in paged]
    assert len(keys) == len(set(keys)), "a (obs_time, station_id) came twice"
    assert keys == sorted(keys), "not ordered by (obs_time, station_id)"
    assert paged == whole
    active = [s for s in client.get("/api/v1/stations", headers=KEY).json()["stations"] if s["active"]]
    # 48 whole hours; a handful of station-hours are absent, as in real feeds.
    assert 0.98 * 48 * len(active) <= len(paged) <= 48 * len(active)
    start, end = (datetime.fromisoformat(params[k]) for k in ("start", "end"))
    assert all(start <= key[0] < end for key in keys)


def test_page_size_default_and_limits(weather):
    client = weather(rate_limit_per_second=None)
    first = client.get("/api/v1/observations", params=window(7 * 24 - 1, 0), headers=KEY).json()
    assert len(first["observations"]) == 1000
    assert first["next_page_token"]
    assert client.get("/api/v1/observations", params={**window(2), "page_size": 5001}, headers=KEY).status_code == 400
    assert client.get("/api/v1/observations", params={**window(2), "page_size": 0}, headers=KEY).status_code == 400


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"end": NOW.isoformat()}, "start"),
        ({"start": NOW.isoformat()}, "end"),
        ({"start": "2026-11-20T00:00:00", "end": NOW.isoformat()}, "offset"),
        ({"start": "yesterday", "end": NOW.isoformat()}, "ISO 8601"),
        ({"start": (NOW - timedelta(days=7, hours=1)).isoformat(), "end": NOW.isoformat()}, "7 days"),
        ({"start": NOW.isoformat(), "end": (NOW - timedelta(hours=1)).isoformat()}, "after start"),
        ({**window(2), "page_token": "bm90LWEtdG9rZW4"}, "page_token"),
    ],
)
def test_bad_queries_are_400_with_reason(weather, params, fragment):
    reply = weather().get("/api/v1/observations", params=params, headers=KEY)
    assert reply.status_code == 400
    assert fragment in reply.json()["error"]


def test_same_seed_gives_identical_bytes(weather):
    a, b, other = weather(seed=7), weather(seed=7), weather(seed=8)
    params = {**window(30), "page_size": 500}
    for path, query in (("/api/v1/stations", None), ("/api/v1/observations", params)):
        body_a = a.get(path, params=query, headers=KEY).content
        assert body_a == b.get(path, params=query, headers=KEY).content
        assert body_a != other.get(path, params=query, headers=KEY).content


def test_key_required(weather):
    client = weather()
    missing = client.get("/api/v1/stations")
    wrong = client.get("/api/v1/observations", params=window(2), headers={"X-Api-Key": "nope"})
    assert missing.status_code == 401 and "X-Api-Key" in missing.json()["error"]
    assert wrong.status_code == 401 and "error" in wrong.json()


def test_burst_over_10_per_second_gets_429_with_retry_after(weather):
    client = weather()
    replies = [client.get("/api/v1/stations", headers=KEY) for _ in range(25)]
    codes = [r.status_code for r in replies]
    assert codes[:10] == [200] * 10
    limited = [r for r in replies if r.status_code == 429]
    assert limited, codes
    assert all(re.fullmatch(r"[1-9][0-9]*", r.headers["Retry-After"]) for r in limited)
    time.sleep(int(limited[-1].headers["Retry-After"]))
    assert client.get("/api/v1/stations", headers=KEY).status_code == 200


def test_stations_are_haicheng_network(weather):
    stations = weather().get("/api/v1/stations", headers=KEY).json()["stations"]
    assert 36 <= len(stations) <= 44
    towns = {row["code12"] for row in csv.DictReader(REFERENCE_CSV.open(encoding="utf-8")) if row["level"] == "town"}
    for s in stations:
        assert set(s) == {"station_id", "name", "lon", "lat", "altitude_m", "division_code", "kind", "active"}
        assert s["division_code"] in towns
        assert 122.3 <= s["lon"] <= 123.2 and 40.5 <= s["lat"] <= 41.1
        pattern = r"\d{5}" if s["kind"] == "national" else r"[A-Z]\d{4}"
        assert re.fullmatch(pattern, s["station_id"])
    assert {s["kind"] for s in stations} == {"national", "regional"}
    assert 1 <= sum(not s["active"] for s in stations) <= 4
    assert len({s["station_id"] for s in stations}) == len(stations)
    doubled = weather(scale=2).get("/api/v1/stations", headers=KEY).json()["stations"]
    assert 76 <= len(doubled) <= 84


def test_missing_values_are_999999_with_qc_9(weather):
    rows = fetch_all(weather(rate_limit_per_second=None), {**window(7 * 24 - 1, 0), "page_size": 5000})
    values = [r[f] for r in rows for f in NUMERIC]
    share = values.count(999999) / len(values)
    assert 0.003 < share < 0.03
    assert all(r["qc"] == 9 for r in rows if any(r[f] == 999999 for f in NUMERIC))
    assert {r["qc"] for r in rows} <= {0, 1, 2, 9}
    assert {0, 1, 9} <= {r["qc"] for r in rows}
    assert all(isinstance(r[f], int | float) for r in rows for f in NUMERIC)


def test_rows_never_from_the_future(weather, clock):
    rows = fetch_all(weather(rate_limit_per_second=None), {**window(10, 10), "page_size": 5000})
    assert rows
    assert max(datetime.fromisoformat(r["obs_time"]) for r in rows) == NOW.replace(minute=0)
    assert all(datetime.fromisoformat(r["updated_at"]) <= clock.now for r in rows)
    assert all(r["obs_time"].endswith("+08:00") and r["updated_at"].endswith("+08:00") for r in rows)


def max_3h_total(rows: list[dict[str, Any]]) -> float:
    """The largest 3-hour precipitation total of any station (missing values count 0)."""
    by_station: dict[str, dict[datetime, float]] = {}
    for r in rows:
        if r["precip_1h_mm"] != 999999:
            by_station.setdefault(r["station_id"], {})[datetime.fromisoformat(r["obs_time"])] = r["precip_1h_mm"]
    return max(
        sum(hours.get(h - timedelta(hours=k), 0.0) for k in range(3)) for hours in by_station.values() for h in hours
    )


def test_storm_crosses_thresholds_in_last_48_hours(weather):
    rows = fetch_all(weather(rate_limit_per_second=None, storm="summer"), {**window(48, 0), "page_size": 5000})

    def valid(field: str) -> list[float]:
        return [r[field] for r in rows if r[field] != 999999]

    assert 20 <= max(valid("precip_1h_mm")) < 50  # 短时强降水 at the core, no 50 mm hour
    assert max_3h_total(rows) >= 50  # the orange rainstorm signal's criterion
    assert max(valid("wind_gust_ms")) >= 17.2
    assert min(valid("visibility_m")) < 500
    # Mostly dry: a storm, not a monsoon.
    assert sum(p == 0 for p in valid("precip_1h_mm")) > 0.5 * len(rows)


def test_storm_follows_a_clock_frozen_after_creation(standin_servers):
    app = create_app(api_key="test-weather-key", rate_limit_per_second=None, storm="summer")
    app.state.clock.freeze(NOW)
    client = standin_servers.client(standin_servers.start(app))
    rows = fetch_all(client, {**window(48, 0), "page_size": 5000})
    assert max_3h_total(rows) >= 50
    storm = client.get("/__admin/info").json()["storm"]
    assert storm["start"] == "2026-11-27T14:00:00+08:00"


def test_late_correction_appears_after_clock_moves(weather, clock):
    client = weather(rate_limit_per_second=None)
    params = {**window(8, 0), "page_size": 5000}
    before = {(r["obs_time"], r["station_id"]): r for r in fetch_all(client, params)}
    moved = client.post("/__admin/clock", json={"advance_seconds": 6 * 3600})
    assert moved.status_code == 200
    assert moved.json()["now"] == (NOW + timedelta(hours=6)).isoformat()
    after = {(r["obs_time"], r["station_id"]): r for r in fetch_all(client, params)}

    assert set(before) == set(after)
    changed = [key for key in before if before[key] != after[key]]
    assert changed, "no row was re-issued"
    for key in changed:
        old, new = before[key], after[key]
        assert new["updated_at"] > old["updated_at"]
        assert any(old[f] != new[f] for f in NUMERIC)
        lag = datetime.fromisoformat(new["updated_at"]) - datetime.fromisoformat(new["obs_time"])
        assert timedelta(hours=1) <= lag <= timedelta(hours=6)
        assert datetime.fromisoformat(new["updated_at"]) <= NOW + timedelta(hours=6)
    assert len(changed) < 0.1 * len(before)


def test_injected_clock_is_used_too(weather, clock):
    client = weather(rate_limit_per_second=None)
    params = {**window(3, 5), "page_size": 5000}
    count_now = len(fetch_all(client, params))
    clock.advance(hours=2)
    assert len(fetch_all(client, params)) > count_now


def test_malformed_rows_with_switch(weather):
    client = weather(rate_limit_per_second=None)
    params = {**window(24, 0), "page_size": 5000}

    def broken(row: dict[str, Any]) -> bool:
        return (
            row["obs_time"] == "not-a-time"
            or row["station_id"] is None
            or any(isinstance(row[f], str) for f in NUMERIC)
        )

    assert not any(broken(r) for r in fetch_all(client, params))
    switched = client.post("/__admin/faults", json={"malformed_rate": 0.05})
    assert switched.status_code == 200 and switched.json()["malformed_rate"] == 0.05
    rows = fetch_all(client, params)
    bad = [r for r in rows if broken(r)]
    assert 0.01 * len(rows) < len(bad) < 0.15 * len(rows)
    assert client.get("/__admin/faults").json()["malformed_rate"] == 0.05


def test_fault_switches(weather):
    client = weather(faults={"outage": True})
    assert client.get("/api/v1/stations", headers=KEY).status_code == 503
    client.post("/__admin/faults", json={"outage": False, "fail_429_rate": 1.0})
    limited = client.get("/api/v1/stations", headers=KEY)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    client.post("/__admin/faults", json={"fail_429_rate": 0, "fail_503_rate": 0.5})
    codes = [client.get("/api/v1/stations", headers=KEY).status_code for _ in range(8)]
    assert set(codes) == {200, 503}
    client.post("/__admin/faults", json={"fail_503_rate": 0, "slow_seconds": 0.4})
    started = time.monotonic()
    assert client.get("/api/v1/stations", headers=KEY).status_code == 200
    assert time.monotonic() - started >= 0.4
    assert client.post("/__admin/faults", json={"no_such_switch": 1}).status_code == 400
    assert client.post("/__admin/faults", json={"fail_503_rate": 2}).status_code == 400
    stats = client.get("/__admin/stats").json()["requests"]
    assert stats["by_status"]["503"] == 1 + codes.count(503)
    assert stats["by_status"]["429"] == 1
    assert stats["total"] == 2 + len(codes) + 1


def test_fault_dice_are_deterministic(weather):
    def pattern() -> list[int]:
        client = weather(faults={"fail_503_rate": 0.3}, rate_limit_per_second=None)
        return [client.get("/api/v1/stations", headers=KEY).status_code for _ in range(20)]

    first = pattern()
    assert first == pattern()
    assert 503 in first and 200 in first


def test_unknown_paths_answer_json(weather):
    client = weather()
    assert client.get("/api/v1/nothing", headers=KEY).json() == {"error": "Not Found"}
    assert client.post("/api/v1/stations", headers=KEY).status_code == 405


def test_a_winter_storm_is_light_snow_without_rainstorm_totals(weather):
    """storm="season" (the default) on 28 November: the storm hours bring a little snow, no 暴雨 anywhere."""
    client = weather(rate_limit_per_second=None)
    rows = fetch_all(client, {**window(48, 0), "page_size": 5000})
    storm = client.get("/__admin/info").json()["storm"]
    assert (storm["kind"], storm["mode"]) == ("snow", "season")
    by_station: dict[str, dict[datetime, float]] = {}
    for r in rows:
        if r["precip_1h_mm"] != 999999:
            by_station.setdefault(r["station_id"], {})[datetime.fromisoformat(r["obs_time"])] = r["precip_1h_mm"]
    start = datetime.fromisoformat(storm["start"])
    for hours in by_station.values():
        assert max(hours.values()) < 20
        assert max(sum(hours.get(h + timedelta(hours=k), 0.0) for k in range(12)) for h in hours) < 30
    # ...and the storm hours carry it: the wettest station's 12 storm hours hold some millimetres of snow.
    wettest = max(sum(hours.get(start + timedelta(hours=k), 0.0) for k in range(12)) for hours in by_station.values())
    assert 4 <= wettest < 30
    # Forced, the same hours carry the summer rainstorm.
    forced = fetch_all(weather(rate_limit_per_second=None, storm="summer"), {**window(48, 0), "page_size": 5000})
    assert max_3h_total(forced) >= 50
