"""Publishing CAP warnings on demand (``POST /__admin/cap/publish``), over real HTTP on loopback."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standins.common.timefmt import CST
from standins.weather import create_app
from standins.weather.admin_client import AdminRequestFailed, publish, published

from connectors.weather import cap as weather_cap
from tests.support.standin_servers import StandinServers

pytestmark = pytest.mark.integration

KEY = {"X-Api-Key": "test-weather-key"}
NOW = datetime(2026, 11, 28, 10, 30, 15, tzinfo=CST)
ANCHOR = datetime(2026, 11, 28, 11, 0, tzinfo=CST)
HAICHENG_SENDER = "21038141600000"
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


def post(client: httpx.Client, body: Any) -> httpx.Response:
    return client.post("/__admin/cap/publish", json=body)


def feed_entries(client: httpx.Client) -> list[weather_cap.FeedEntry]:
    reply = client.get("/cap/feed", headers=KEY)
    assert reply.status_code == 200, reply.text
    return weather_cap.parse_feed(reply.content, "GET /cap/feed")


def record(client: httpx.Client, identifier: str) -> dict[str, Any]:
    """The message as the platform reads it: parsed, checked and normalised."""
    reply = client.get(f"/cap/messages/{identifier}.xml", headers=KEY)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("application/cap+xml")
    return weather_cap.normalise_warning(weather_cap.message_record(identifier, reply.content))


def test_published_alert_is_in_the_feed_and_served(start):
    client, _ = start(cap_start=ANCHOR)
    reply = post(client, {"signal": "暴雨", "colour": "红色"})
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body == {
        "identifier": f"{HAICHENG_SENDER}_20261128103015_0",
        "sent": "2026-11-28T10:30:15+08:00",
        "updated": "2026-11-28T10:30:15+08:00",
    }
    # the scenario has published nothing yet at NOW: the feed holds only this one
    (entry,) = feed_entries(client)
    assert entry.problem is None and entry.identifier == body["identifier"]
    assert entry.updated == datetime.fromisoformat(body["updated"])
    assert httpx.URL(entry.href).path == f"/cap/messages/{body['identifier']}.xml"
    got = record(client, body["identifier"])
    assert got["rejection"] is None and got["profile"] == "national"
    assert (got["msg_type"], got["signal"], got["severity_colour"]) == ("Alert", "暴雨", "Red")
    assert got["event_type_code"] == "11B03" and got["sender"] == HAICHENG_SENDER
    assert got["sender_name"] == "海城市气象台" and got["headline"] == "海城市气象台发布暴雨红色预警信号"
    assert got["division_codes"] == ["210381000000"] and got["area_desc"] == "海城市"
    assert datetime.fromisoformat(got["sent_at"].replace(" ", "T")) == NOW
    assert got["expires_at"].startswith("2026-11-28 22:30:15")  # default: 12 hours


def test_update_and_cancel_reference_the_alert(start):
    client, app = start(cap_start=ANCHOR)
    alert = post(client, {"signal": "大风", "colour": "Blue", "towns": ["西四镇", "210381127000"]}).json()
    app.state.clock.advance(timedelta(minutes=30))
    update = post(
        client,
        {
            "signal": "大风",
            "colour": "黄色",
            "msg_type": "Update",
            "references": alert["identifier"],
            "towns": ["西四镇", "高坨镇", "牛庄"],
            "headline": "海城市气象台更新大风黄色预警信号（测试）",
            "expires_minutes": 90,
        },
    )
    assert update.status_code == 201, update.text
    app.state.clock.advance(timedelta(minutes=45))
    cancel = post(
        client, {"signal": "大风", "colour": "黄色", "msg_type": "Cancel", "references": [update.json()["identifier"]]}
    )
    assert cancel.status_code == 201, cancel.text
    ids = [alert["identifier"], update.json()["identifier"], cancel.json()["identifier"]]
    assert len(set(ids)) == 3
    # newest first (the scenario's first message, at 11:10, is listed too by now)
    assert [e.identifier for e in feed_entries(client) if e.identifier in ids] == ids[::-1]

    first, second, third = (record(client, i) for i in ids)
    assert first["division_codes"] == ["210381124000", "210381127000"] and first["references"] == []
    assert second["msg_type"] == "Update" and second["references"] == [ids[0]]
    assert second["severity_colour"] == "Yellow" and second["headline"].endswith("（测试）")
    assert second["division_codes"] == ["210381124000", "210381127000", "210381123000"]
    assert second["expires_at"] == "2026-11-28 12:30:15+08:00"  # sent 11:00:15 + 90 minutes
    assert third["msg_type"] == "Cancel" and third["references"] == [ids[1]]
    assert third["urgency"] == "Past" and "解除" in third["headline"]


def test_a_published_update_may_replace_a_scenario_message(start):
    client, app = start(cap_start=ANCHOR)
    app.state.clock.freeze(ANCHOR + timedelta(hours=1))
    (blue,) = [e.identifier for e in feed_entries(client)]
    reply = post(client, {"signal": "暴雨", "colour": "橙色", "msg_type": "Update", "references": blue})
    assert reply.status_code == 201, reply.text
    assert record(client, reply.json()["identifier"])["references"] == [blue]


def test_same_second_gets_the_next_sequence_number(start):
    client, app = start(cap_start=ANCHOR)
    first = post(client, {"signal": "大雾", "colour": "黄色"}).json()["identifier"]
    second = post(client, {"signal": "大雾", "colour": "橙色"}).json()["identifier"]
    assert (first, second) == (f"{HAICHENG_SENDER}_20261128103015_0", f"{HAICHENG_SENDER}_20261128103015_1")
    assert [e.identifier for e in feed_entries(client)] == [second, first]
    assert record(client, first)["severity_colour"] == "Yellow"
    assert record(client, second)["severity_colour"] == "Orange"
    # a scenario message of the same second (the blue rainstorm alert at A+0:10) keeps its _0
    app.state.clock.freeze(ANCHOR + timedelta(minutes=10))
    third = post(client, {"signal": "暴雨", "colour": "黄色"}).json()["identifier"]
    assert third == f"{HAICHENG_SENDER}_20261128111000_1"
    assert record(client, f"{HAICHENG_SENDER}_20261128111000_0")["severity_colour"] == "Blue"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"signal": "龙卷风", "colour": "红色"}, "unknown signal"),
        ({"colour": "红色"}, "signal is required"),
        ({"signal": "暴雨", "colour": "紫色"}, "unknown colour"),
        ({"signal": "冰雹", "colour": "蓝色"}, "冰雹 has no 蓝色"),
        ({"signal": "暴雨"}, "colour is required"),
        ({"signal": "暴雨", "colour": "红色", "towns": ["鞍山市"]}, "unknown town"),
        ({"signal": "暴雨", "colour": "红色", "towns": ["210381999000"]}, "unknown town"),
        ({"signal": "暴雨", "colour": "红色", "towns": []}, "towns must be"),
        ({"signal": "暴雨", "colour": "红色", "towns": "孤山镇"}, "towns must be"),
        ({"signal": "暴雨", "colour": "红色", "towns": ["海城市", "孤山镇"]}, "list it alone"),
        ({"signal": "暴雨", "colour": "红色", "msg_type": "Ack"}, "msg_type"),
        ({"signal": "暴雨", "colour": "红色", "msg_type": "Update"}, "references is required"),
        ({"signal": "暴雨", "colour": "红色", "msg_type": "Cancel", "references": "nope_1"}, "no message 'nope_1'"),
        ({"signal": "暴雨", "colour": "红色", "references": "x"}, "an Alert references"),
        ({"signal": "暴雨", "colour": "红色", "references": 7, "msg_type": "Cancel"}, "references must be"),
        ({"signal": "暴雨", "colour": "红色", "expires_minutes": 0}, "expires_minutes"),
        ({"signal": "暴雨", "colour": "红色", "expires_minutes": 1.5}, "expires_minutes"),
        ({"signal": "暴雨", "colour": "红色", "expires_minutes": True}, "expires_minutes"),
        ({"signal": "暴雨", "colour": "红色", "headline": ""}, "headline"),
        ({"signal": "暴雨", "colour": "红色", "color": "red"}, "unknown field(s) color"),
        (["暴雨"], "JSON object"),
    ],
)
def test_bad_input_is_400_and_publishes_nothing(start, body, says):
    client, _ = start(cap_start=ANCHOR)
    reply = post(client, body)
    assert reply.status_code == 400, reply.text
    assert says in reply.json()["error"]
    assert feed_entries(client) == []
    assert client.get("/__admin/cap/published").json() == {"published": []}


def test_not_json_is_400(start):
    client, _ = start(cap_start=ANCHOR)
    reply = client.post("/__admin/cap/publish", content=b"{signal", headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and "not valid JSON" in reply.json()["error"]


def test_a_reference_must_already_be_in_the_feed(start):
    client, _ = start(cap_start=ANCHOR)
    future = f"{HAICHENG_SENDER}_20261128111000_0"  # the scenario's first message, not published at NOW
    reply = post(client, {"signal": "暴雨", "colour": "蓝色", "msg_type": "Cancel", "references": future})
    assert reply.status_code == 400 and future in reply.json()["error"]


def test_published_listing_and_the_client(start):
    client, _ = start(cap_start=ANCHOR)
    base = str(client.base_url)
    alert = publish(base, signal="11B21", colour="yellow", towns=["海州街道"], expires_minutes=240)
    cancel = publish(base, signal="道路结冰", colour="黄色", msg_type="Cancel", references=[alert["identifier"]])
    with pytest.raises(AdminRequestFailed) as refused:
        publish(base, signal="道路结冰", colour="蓝色")
    assert refused.value.status == 400 and "道路结冰 has no 蓝色" in refused.value.message
    assert published(base) == [
        {
            "identifier": alert["identifier"],
            "msg_type": "Alert",
            "signal": "道路结冰",
            "colour": "Yellow",
            "sent": "2026-11-28T10:30:15+08:00",
            "references": [],
        },
        {
            "identifier": cancel["identifier"],
            "msg_type": "Cancel",
            "signal": "道路结冰",
            "colour": "Yellow",
            "sent": "2026-11-28T10:30:15+08:00",
            "references": [alert["identifier"]],
        },
    ]
    assert client.get("/__admin/info").json()["cap"]["admin_published"] == 2


def test_concurrent_publishes_get_distinct_identifiers(start):
    client, _ = start(cap_start=ANCHOR)
    base = str(client.base_url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: publish(base, signal="寒潮", colour="蓝色"), range(24)))
    ids = {a["identifier"] for a in answers}
    assert len(ids) == 24
    assert {int(i.rsplit("_", 1)[1]) for i in ids} == set(range(24))
    assert {e.identifier for e in feed_entries(client)} == ids


def test_the_platform_reads_every_published_message(start):
    """Feed and messages through the connector's parser; national profile, valid codes."""
    client, app = start(cap_start=ANCHOR)
    with REFERENCE_CSV.open(encoding="utf-8") as handle:
        known = {row["code12"] for row in csv.DictReader(handle)} | {"210381000000"}
    identifiers = []
    for signal, colour, towns in [
        ("台风", "蓝色", None),
        ("高温", "橙色", ["孤山镇", "岔沟镇"]),
        ("干旱", "红色", ["海城市"]),
        ("霜冻", "橙色", ["210381105000"]),
        ("霾", "黄色", None),
    ]:
        fields = {"signal": signal, "colour": colour} | ({"towns": towns} if towns else {})
        identifiers.append(post(client, fields).json()["identifier"])
        app.state.clock.advance(timedelta(seconds=1))
    entries = feed_entries(client)
    assert [e.identifier for e in entries] == identifiers[::-1]
    assert all(e.problem is None for e in entries)
    for identifier in identifiers:
        assert re.fullmatch(r"\d{14}_\d{14}_\d+", identifier)
        got = record(client, identifier)
        assert got["rejection"] is None and got["msg_type"] == "Alert"
        assert got["event_type_code"] == weather_cap.SIGNALS[got["signal"]].code
        assert got["severity_colour"] in weather_cap.SIGNALS[got["signal"]].colours
        assert set(got["division_codes"]) <= known
        assert [c["methodName"] for c in got["channels"]] == ["短信", "农村大喇叭", "电子显示屏", "网站"]


def test_publishing_first_fixes_the_default_anchor(start):
    client, app = start()
    publish(str(client.base_url), signal="暴雪", colour="橙色")
    assert client.get("/__admin/info").json()["cap"]["start"] == ANCHOR.isoformat()
    assert len(feed_entries(client)) == 1
    app.state.clock.freeze(ANCHOR + timedelta(hours=1))
    assert len(feed_entries(client)) == 2  # the scenario's first message joins it
