"""Pure pieces of the sandbox: tokens, signatures, limiter, clock, reference data."""

from __future__ import annotations

import csv
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standins.anshan.auth import sign, string_to_sign
from standins.common.clock import SandboxClock
from standins.common.faults import FaultDice
from standins.common.ratelimit import SlidingWindowLimiter
from standins.common.timefmt import CST, iso_cst
from standins.weather.app import WeatherFaults
from standins.weather.geography import TOWNS
from standins.weather.paging import decode_token, encode_token
from standins.weather.stations import generate_stations

REFERENCE_CSV = Path("/work/shared/reference/haicheng_divisions_2022.csv")


def test_page_token_round_trip_and_rejects_garbage():
    key = (datetime(2026, 11, 28, 2, tzinfo=UTC), "A3817")
    token = encode_token(key)
    assert decode_token(token) == key
    assert "A3817" not in token
    for garbage in ("", "abc", "e30", encode_token(key)[:-3]):
        with pytest.raises(ValueError):
            decode_token(garbage)


def test_signature_matches_contract_formula():
    body = b'{"a":1}'
    expected_message = "POST\n/api/exchange/v1/batches\n1764294000\nn-1\n" + hashlib.sha256(body).hexdigest()
    assert string_to_sign("post", "/api/exchange/v1/batches", "1764294000", "n-1", body) == expected_message
    expected = hmac.new(b"secret", expected_message.encode(), hashlib.sha256).hexdigest()
    assert sign("secret", "POST", "/api/exchange/v1/batches", "1764294000", "n-1", body) == expected
    empty = string_to_sign("GET", "/x", "1", "n", b"").rsplit("\n", 1)[1]
    assert empty == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_limiter_allows_10_in_any_second():
    now = [100.0]
    limiter = SlidingWindowLimiter(10, clock=lambda: now[0])
    assert [limiter.check() for _ in range(10)] == [None] * 10
    assert limiter.check() == 1
    now[0] += 0.5
    assert limiter.check() == 1
    now[0] += 0.5
    assert limiter.check() is None


def test_clock_freeze_advance_release():
    base = datetime(2026, 11, 28, 2, tzinfo=UTC)
    clock = SandboxClock(lambda: base)
    clock.advance(timedelta(hours=1))
    assert clock() == base + timedelta(hours=1)
    clock.freeze(datetime(2026, 1, 1, 8, tzinfo=CST))
    clock.advance(timedelta(minutes=5))
    assert iso_cst(clock()) == "2026-01-01T08:05:00+08:00"
    clock.release()
    assert clock() == base


def test_fault_switch_validation_and_dice():
    faults = WeatherFaults()
    faults.update({"fail_503_rate": 0.25, "outage": True})
    assert faults.as_dict()["fail_503_rate"] == 0.25 and faults.outage is True
    for bad in ({"fail_503_rate": 1.5}, {"outage": 1}, {"slow_seconds": -1}, {"bogus": 0}):
        with pytest.raises(ValueError):
            faults.update(bad)
    assert faults.fail_503_rate == 0.25
    rolls = [FaultDice(1).roll("503", 0.5) for _ in range(3)]
    assert len(set(rolls)) == 1
    dice = FaultDice(1)
    assert 30 < sum(dice.roll("503", 0.5) for _ in range(100)) < 70


def test_embedded_towns_match_reference_csv():
    if not REFERENCE_CSV.exists():
        pytest.skip("reference data not available")
    with REFERENCE_CSV.open(encoding="utf-8") as handle:
        reference = {row["code12"]: row["name"] for row in csv.DictReader(handle) if row["level"] == "town"}
    assert {t.code12: t.name for t in TOWNS} == reference


def test_larger_scale_extends_the_network():
    small = {s.station_id: s for s in generate_stations(5, 1)}
    large = {s.station_id: s for s in generate_stations(5, 2)}
    regional_small = {k for k, s in small.items() if s.kind == "regional"}
    assert regional_small <= set(large)
    assert all(large[k].lon == small[k].lon and large[k].name == small[k].name for k in regional_small)
    assert "54471" in small
