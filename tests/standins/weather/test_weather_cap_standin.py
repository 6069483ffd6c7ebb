"""The weather stand-in's CAP feed, over real HTTP on loopback."""

from __future__ import annotations

import csv
import io
import re
import xml.sax
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import xmlschema
from standins.common.timefmt import CST
from standins.weather import create_app
from standins.weather.cap_catalogue import SEASONAL_SIGNALS, SIGNALS
from standins.weather.cap_scenario import background

from connectors.weather import cap as weather_cap
from connectors.weather.cap import SCHEMA_PATH
from tests.support.standin_servers import StandinServers

pytestmark = pytest.mark.integration

KEY = {"X-Api-Key": "test-weather-key"}
NOW = datetime(2026, 11, 28, 10, 30, tzinfo=CST)
ANCHOR = datetime(2026, 11, 28, 11, 0, tzinfo=CST)
ATOM = "{http://www.w3.org/2005/Atom}"
XSD = SCHEMA_PATH
REFERENCE_CSV = Path("/work/shared/reference/haicheng_divisions_2022.csv")


@pytest.fixture
def start(standin_servers: StandinServers) -> Callable[..., tuple[httpx.Client, Any]]:
    def run(**kwargs: Any) -> tuple[httpx.Client, Any]:
        kwargs.setdefault("api_key", "test-weather-key")
        kwargs.setdefault("rate_limit_per_second", None)
        app = create_app(**kwargs)
        app.state.clock.freeze(NOW)
        return standin_servers.client(standin_servers.start(app)), app

    return run


def feed(client: httpx.Client, since: str | None = None) -> list[tuple[str, str, str]]:
    reply = client.get("/cap/feed", params={"since": since} if since else None, headers=KEY)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(reply.content)
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}updated") is not None
    return [
        (e.findtext(f"{ATOM}id"), e.findtext(f"{ATOM}updated"), e.find(f"{ATOM}link").get("href"))
        for e in root.findall(f"{ATOM}entry")
    ]


def move(app: Any, hours: float) -> None:
    app.state.clock.freeze(ANCHOR + timedelta(hours=hours))


def test_key_required_on_cap_routes(start):
    client, _ = start(cap_start=ANCHOR)
    assert client.get("/cap/feed").status_code == 401
    assert client.get("/cap/messages/x.xml", headers={"X-Api-Key": "wrong"}).status_code == 401


def test_default_episode_starts_after_the_first_request_and_follows_the_clock(start):
    client, app = start()
    assert feed(client) == []  # nothing is published yet at the first request
    assert client.get("/__admin/info").json()["cap"]["start"] == ANCHOR.isoformat()
    move(app, 4)
    listed = feed(client)
    # newest first; the yellow update is listed twice under one identifier
    assert [u for _, u, _ in listed] == sorted((u for _, u, _ in listed), reverse=True)
    ids = [i for i, _, _ in listed]
    assert len(ids) == 3 and len(set(ids)) == 2
    assert ids[0] == ids[1] == "21038141600000_20261128140500_0"
    move(app, 20)
    assert len({i for i, _, _ in feed(client)}) == 8


def test_since_filters_and_bad_since_is_400(start):
    client, app = start(cap_start=ANCHOR)
    move(app, 20)
    later = feed(client, (ANCHOR + timedelta(hours=9)).isoformat())
    assert all(datetime.fromisoformat(u) >= ANCHOR + timedelta(hours=9) for _, u, _ in later)
    assert len(later) == 5
    bad = client.get("/cap/feed", params={"since": "2026-11-28 10:00"}, headers=KEY)
    assert bad.status_code == 400 and "since" in bad.json()["error"]


def test_messages_are_served_only_once_published(start):
    client, app = start(cap_start=ANCHOR)
    move(app, 1)
    (entry,) = feed(client)
    assert client.get(httpx.URL(entry[2]).path, headers=KEY).status_code == 200
    future = "21038141600000_20261128140500_0"
    assert client.get(f"/cap/messages/{future}.xml", headers=KEY).status_code == 404
    move(app, 4)
    reply = client.get(f"/cap/messages/{future}.xml", headers=KEY)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/cap+xml")


def _all_messages(client: httpx.Client) -> dict[str, bytes]:
    out = {}
    for identifier, _, href in feed(client):
        reply = client.get(httpx.URL(href).path, headers=KEY)
        assert reply.status_code == 200
        out[identifier] = reply.content
    return out


def test_episode_is_realistic_for_haicheng(start):
    client, app = start(cap_start=ANCHOR, scale=2)
    move(app, 24 * 9)
    messages = _all_messages(client)
    schema = xmlschema.XMLSchema(str(XSD))
    with REFERENCE_CSV.open(encoding="utf-8") as handle:
        known = {row["code12"] for row in csv.DictReader(handle)}
    profiles = set()
    for identifier, body in messages.items():
        # GB/T 35965.1 identifiers: sender code, entry time, sequence number
        assert re.fullmatch(r"\d{14}_\d{14}_\d", identifier)
        root = ElementTree.fromstring(body)
        oasis = root.tag.startswith("{urn:oasis:names:tc:emergency:cap:1.2}")
        profiles.add("oasis" if oasis else "national")
        if oasis:
            schema.validate(body.decode("utf-8"))
        else:
            assert root.tag == "alert"
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00", root.findtext("sendTime"))
            assert root.find("code/method/methodName") is not None
            for code in root.findtext("info/area/geocode").split(","):
                assert code in known
    assert profiles == {"national", "oasis"}
    assert len(messages) == 8 + len(background(42, 2, ANCHOR))  # the episode, then background warnings


def test_the_episode_chains_and_neighbours(start):
    client, app = start(cap_start=ANCHOR, storm="summer")  # the rainstorm chain, in November only when forced
    move(app, 20)
    records = {
        r["identifier"]: r
        for r in (
            weather_cap.normalise_warning(weather_cap.message_record(i, b)) for i, b in _all_messages(client).items()
        )
    }
    by_headline = {r["headline"]: r for r in records.values()}
    blue = by_headline["海城市气象台发布暴雨蓝色预警信号"]
    yellow = by_headline["海城市气象台更新暴雨黄色预警信号"]
    cancel = by_headline["海城市气象台解除暴雨黄色预警信号"]
    assert (blue["msg_type"], yellow["msg_type"], cancel["msg_type"]) == ("Alert", "Update", "Cancel")
    assert yellow["references"] == [blue["identifier"]] and cancel["references"] == [yellow["identifier"]]
    gales = [r for r in records.values() if r["signal"] == "大风"]
    assert {g["profile"] for g in gales} == {"oasis"} and {g["sender_name"] for g in gales} == {"营口市气象台"}
    gale_cancel = next(g for g in gales if g["msg_type"] == "Cancel")
    assert len(gale_cancel["references"]) == 2
    assert "210882000000" in gale_cancel["division_codes"]  # 大石桥市, across the boundary
    icing = by_headline["海城市气象台发布道路结冰黄色预警信号"]
    assert icing["event_type_code"] == "11B21" and "G15沈海高速" in icing["description"]
    cold = next(r for r in records.values() if r["signal"] == "寒潮")
    assert cold["division_codes"] == ["210381000000"] and cold["sender_name"] == "鞍山市气象台"
    # the cold wave is never cancelled: it simply expires
    assert not any(cold["identifier"] in r["references"] for r in records.values())


def test_same_seed_same_bytes(start):
    def everything() -> list[bytes]:
        client, app = start(cap_start=ANCHOR, seed=11)
        move(app, 24 * 9)
        reply = client.get("/cap/feed", headers=KEY)
        base = str(client.base_url)
        return [reply.content.replace(base.encode(), b"BASE"), *_all_messages(client).values()]

    assert everything() == everything()


def test_background_uses_only_valid_colours_and_plausible_signals():
    warnings = background(5, 25, ANCHOR)
    assert len([w for w in warnings if w.msg_type == "Alert"]) == 100
    for w in warnings:
        assert w.colour in SIGNALS[w.signal].colours, (w.signal, w.colour)
        assert w.signal in SEASONAL_SIGNALS[w.sent.astimezone(CST).month]
    assert len({w.identifier for w in warnings}) == len(warnings)


def test_catalogue_agrees_with_the_connector():
    assert {n: (s.code, s.colours) for n, s in SIGNALS.items()} == {
        n: (s.code, s.colours) for n, s in weather_cap.SIGNALS.items()
    }


def test_storm_mode_lines_the_rain_up_with_the_observations(start):
    client, _ = start(cap_start="storm", storm="summer")
    info = client.get("/__admin/info").json()
    storm = datetime.fromisoformat(info["storm"]["start"])
    assert datetime.fromisoformat(info["cap"]["start"]) == storm - timedelta(hours=1)
    # at NOW the storm is over, so its warnings are already published
    assert info["cap"]["published"] >= 8
    assert "海城市气象台发布暴雨蓝色预警信号" in client.get("/cap/feed", headers=KEY).text


@pytest.mark.parametrize(
    ("switch", "count", "check"),
    [
        ("cap_malformed", 2, "malformed"),
        ("cap_xxe", 1, "xxe"),
        ("cap_oversize", 1, "oversize"),
    ],
)
def test_fault_switches_add_bad_messages(start, switch, count, check):
    client, app = start(cap_start=ANCHOR)
    move(app, 20)
    before = _all_messages(client)
    assert client.post("/__admin/faults", json={switch: True}).json()[switch] is True
    after = _all_messages(client)
    added = {i: b for i, b in after.items() if i not in before}
    assert len(added) == count
    schema = xmlschema.XMLSchema(str(XSD))
    for body in added.values():
        if check == "malformed":
            if body.startswith(b"<?xml") and b"urn:oasis" in body:
                assert not schema.is_valid(body.decode("utf-8"))  # well-formed, but not CAP 1.2
                ElementTree.fromstring(body)
            else:
                with pytest.raises(ElementTree.ParseError):
                    ElementTree.fromstring(body)
        elif check == "xxe":
            assert b"<!DOCTYPE alert [" in body and b'SYSTEM "file:///etc/passwd"' in body
        else:
            assert len(body) > 1024 * 1024
            schema.validate(body.decode("utf-8"))  # valid CAP; only too big
    client.post("/__admin/faults", json={switch: False})
    assert set(_all_messages(client)) == set(before)


def test_xxe_message_is_live_for_a_careless_parser(start):
    """The canary proves the XXE message would really make a resolving parser fetch."""
    client, app = start(cap_start=ANCHOR, faults={"cap_xxe": True})
    move(app, 20)
    body = next(b for b in _all_messages(client).values() if b"<!DOCTYPE" in b)
    assert client.get("/__admin/info").json()["cap"]["canary_hits"] == 0
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, True)
    parser.setContentHandler(xml.sax.handler.ContentHandler())
    source = xml.sax.xmlreader.InputSource()
    source.setByteStream(io.BytesIO(body))
    parser.parse(source)
    assert client.get("/__admin/info").json()["cap"]["canary_hits"] == 1


def test_a_winter_episode_warns_of_snow_not_rain(start):
    """In November the scenario's 暴雨 chain is a 暴雪 (11B04) chain; the gale, cold wave and icing stay."""
    client, app = start(cap_start=ANCHOR)
    move(app, 20)
    records = [
        weather_cap.normalise_warning(weather_cap.message_record(i, b)) for i, b in _all_messages(client).items()
    ]
    headlines = {r["headline"] for r in records}
    assert {
        "海城市气象台发布暴雪蓝色预警信号",
        "海城市气象台更新暴雪黄色预警信号",
        "海城市气象台解除暴雪黄色预警信号",
    } <= headlines
    assert not [h for h in headlines if "暴雨" in h]
    signals = {r["signal"] for r in records}
    assert {"暴雪", "大风", "寒潮", "道路结冰"} <= signals
    assert {r["event_type_code"] for r in records if r["signal"] == "暴雪"} == {"11B04"}
