"""CAP warnings: weather stand-in → lake → raw.weather__warnings, against a real PostgreSQL."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from standins.common.timefmt import CST
from standins.weather.app import create_app

from edp.ingest.quarantine import replay
from edp.orchestration.pipeline import ingest
from edp.secrets import source_credential
from edp.settings import Settings
from edp.storage import ops
from edp.storage.lake import open_lake
from tests.support import warehouse
from tests.support.standin_servers import StandinServers
from tests.support.warehouse import scalar

pytestmark = pytest.mark.integration

ANCHOR = datetime(2026, 11, 28, 11, 0, tzinfo=CST)
EPISODE = 8  # messages of the fixed episode (sandbox.weather.cap_scenario)
RAIN_BLUE = "21038141600000_20261128111000_0"
RAIN_YELLOW = "21038141600000_20261128140500_0"  # listed twice by the feed
RAIN_CANCEL = "21038141600000_20261129010000_0"
GALE = "21080041600000_20261128160000_0"
GALE_UPDATE = "21080041600000_20261128200000_0"
GALE_CANCEL = "21080041600000_20261129000000_0"


@pytest.fixture
def weather(settings: Settings, standin_servers: StandinServers) -> tuple[Settings, Any]:
    """The weather stand-in on a free port, the CAP episode anchored at ANCHOR, clock 20 h later."""
    app = create_app(
        api_key=source_credential(settings, "weather", "api_key"), seed=7, scale=0.25, cap_start=ANCHOR, storm="summer"
    )
    at(app, 20)
    standin_servers.start(app, source="weather")
    return Settings(weather_initial_days=1), app


def at(app: Any, hours: float) -> datetime:
    moment = ANCHOR + timedelta(hours=hours)
    app.state.clock.freeze(moment)
    return moment


def rows(s: Settings, sql: str = "select * from raw.weather__warnings") -> list[dict[str, Any]]:
    return warehouse.rows(s, sql)


def test_ingest_twice_adds_nothing(weather) -> None:
    s, app = weather
    until = at(app, 20)
    first = ingest("weather", s, until=until)
    assert first["quarantined"] == 0
    loaded = rows(s)
    assert len(loaded) == EPISODE
    # the repeated message is one row
    assert sum(r["identifier"] == RAIN_YELLOW for r in loaded) == 1
    cursor = ops.get_cursor(s, "weather", "warnings")
    assert cursor == (ANCHOR + timedelta(hours=16)).isoformat()  # the road-icing alert, the latest entry
    second = ingest("weather", s, until=until)
    assert second["quarantined"] == 0
    assert len(rows(s)) == EPISODE
    batch = rows(s, "select * from ops.batches where dataset='warnings' order by extracted_at desc limit 1")[0]
    assert batch["row_count"] >= 1 and batch["inserted_count"] == 0  # the lookback re-read, nothing added
    assert not batch["schema_drift"]  # every key the parser emits is declared
    assert scalar(s, "select count(distinct identifier) = count(*) from raw.weather__warnings")
    assert ops.get_cursor(s, "weather", "warnings") == cursor


def test_update_and_cancel_chain_with_references(weather) -> None:
    s, app = weather
    ingest("weather", s, until=at(app, 20))
    by_id = {r["identifier"]: r for r in rows(s)}
    assert by_id[RAIN_BLUE]["msg_type"] == "Alert" and by_id[RAIN_BLUE]["severity_colour"] == "Blue"
    assert by_id[RAIN_YELLOW]["msg_type"] == "Update" and by_id[RAIN_YELLOW]["references"] == [RAIN_BLUE]
    assert by_id[RAIN_CANCEL]["msg_type"] == "Cancel" and by_id[RAIN_CANCEL]["references"] == [RAIN_YELLOW]
    assert by_id[GALE_UPDATE]["references"] == [GALE]
    assert by_id[GALE_CANCEL]["references"] == [GALE, GALE_UPDATE]  # OASIS triples, normalised
    for identifier in (GALE, GALE_UPDATE, GALE_CANCEL):
        gale = by_id[identifier]
        assert (gale["profile"], gale["signal"], gale["severity_colour"], gale["severity_raw"]) == (
            "oasis",
            "大风",
            "Blue",
            "Minor",
        )
        assert gale["polygon"] and "210882000000" in gale["division_codes"]
    rain = by_id[RAIN_BLUE]
    assert (rain["profile"], rain["event_type_code"], rain["signal"], rain["sender"]) == (
        "national",
        "11B03",
        "暴雨",
        "21038141600000",
    )
    assert rain["sent_at"] == ANCHOR + timedelta(minutes=10)
    assert [c["methodName"] for c in rain["channels"]] == ["短信", "农村大喇叭", "电子显示屏", "网站"]
    assert all(len(code) == 12 for code in rain["division_codes"])
    # lineage: every row knows its batch, and its bytes are landed
    assert scalar(s, "select count(*) from raw.weather__warnings where _batch_id is null or _source <> 'weather'") == 0


def test_warnings_appear_as_the_clock_moves(weather) -> None:
    s, app = weather
    ingest("weather", s, until=at(app, 4))
    assert {r["identifier"] for r in rows(s)} == {RAIN_BLUE, RAIN_YELLOW}
    # the cursor is the repeat's later <updated>
    assert ops.get_cursor(s, "weather", "warnings") == (ANCHOR + timedelta(hours=3, minutes=25)).isoformat()
    ingest("weather", s, until=at(app, 20))
    assert len(rows(s)) == EPISODE


@pytest.mark.parametrize(
    ("switch", "expected"),
    [
        ("cap_malformed", [("xml", "not well-formed XML"), ("/alert/info/severity", "not valid against CAP-v1.2.xsd")]),
        ("cap_xxe", [("xml", "DTD or entity declarations")]),
        ("cap_oversize", [("xml", "over the 1048576-byte limit")]),
    ],
)
def test_bad_messages_are_quarantined_with_reasons_and_good_ones_load(weather, switch, expected) -> None:
    s, app = weather
    app.state.service.faults.update({switch: True})
    result = ingest("weather", s, until=at(app, 20))
    assert len(rows(s)) == EPISODE  # every good message of the batch is loaded
    quarantined = rows(s, "select * from ops.quarantine where dataset='warnings' order by locator")
    assert result["quarantined"] == len(expected) == len(quarantined)
    got = sorted((q["field"], q["reason"]) for q in quarantined)
    for (field, fragment), (got_field, reason) in zip(sorted(expected), got, strict=True):
        assert got_field == field and fragment in reason, reason
    for q in quarantined:
        assert q["locator"].startswith("landing/weather/warnings/") and " record 0" in q["locator"]
        assert q["record"]["identifier"] and q["record"]["rejection"]["url"].startswith("/cap/messages/")
    # nothing was resolved: no file content reached the warehouse, the canary was never fetched
    info = httpx.get(f"{s.source('weather').url}/__admin/info").json()
    assert info["cap"]["canary_hits"] == 0
    assert scalar(s, "select count(*) from ops.quarantine where record::text like '%root:%'") == 0
    assert scalar(s, "select count(*) from raw.weather__warnings where description like '%root:%'") == 0
    # the cursor moved past the bad messages: they are not fetched again and again
    assert ops.get_cursor(s, "weather", "warnings") == (ANCHOR + timedelta(hours=16)).isoformat()
    # a refused message stays refused on replay (the bureau has to send it again)
    replayed = replay(s, "weather")["datasets"]["warnings"]
    assert replayed == {"replayed": 0, "still_quarantined": len(expected), "rows": 0, "files_replaced": 0}


def test_retries_through_503_and_429_on_the_feed_and_messages(weather) -> None:
    s, app = weather
    app.state.service.faults.update({"fail_503_rate": 0.3, "fail_429_rate": 0.2})
    ingest("weather", s, until=at(app, 20))
    stats = httpx.get(f"{s.source('weather').url}/__admin/stats").json()["requests"]["by_status"]
    assert stats.get("503", 0) > 0
    assert len(rows(s)) == EPISODE


def test_landed_pages_are_the_original_messages(weather) -> None:
    s, app = weather
    ingest("weather", s, until=at(app, 20))
    batch = rows(s, "select manifest_key from ops.batches where dataset='warnings'")[0]
    lake = open_lake(s)
    manifest = json.loads(lake.get_bytes(batch["manifest_key"]))
    # one page per message, then the feed
    assert len(manifest["landing_keys"]) == EPISODE + 1
    first = gzip.decompress(lake.get_bytes(manifest["landing_keys"][0]))
    assert first.startswith(b"<?xml") and RAIN_BLUE.encode() in first
    sha = {r["identifier"]: r["raw_xml_sha256"] for r in rows(s)}
    assert sha[RAIN_BLUE] == hashlib.sha256(first).hexdigest()
    feed = gzip.decompress(lake.get_bytes(manifest["landing_keys"][-1]))
    assert b"http://www.w3.org/2005/Atom" in feed
