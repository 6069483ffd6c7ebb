"""The 自然资源局 WFS stand-in: realistic Haicheng layers, the WFS contract, changes and fault switches."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from defusedxml import ElementTree
from standins.natural_resources import LAYERS, create_app
from standins.natural_resources.hazards import TOWN_WEIGHTS, danger_grade
from standins.natural_resources.people import is_valid_credit_code

from tests.support.standin_servers import StandinServers

NOW = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
REFERENCE = Path("/work/shared/reference/haicheng_divisions_2022.csv")
OWS = "{http://www.opengis.net/ows/1.1}"
BASE = {"service": "WFS", "version": "2.0.0", "request": "GetFeature", "outputFormat": "application/json"}


def features(app: Any, layer: str) -> list[dict[str, Any]]:
    return app.state.service.features[layer]


def division_names() -> dict[str, str]:
    with REFERENCE.open(encoding="utf-8") as fh:
        return {row["code12"]: row["name"] for row in csv.DictReader(fh) if row["level"] == "town"}


# -- data, no server ----------------------------------------------------------------------------------------
def test_layers_are_deterministic_for_a_seed_and_grow_with_scale() -> None:
    a, b, c = (create_app(seed=s, scale=1.0) for s in (5, 5, 6))
    for app in (a, b, c):
        app.state.clock.freeze(NOW)
    for layer in LAYERS:
        assert features(a, layer) == features(b, layer)
        assert features(a, layer) != features(c, layer)
    big = create_app(seed=5, scale=2.0)
    big.state.clock.freeze(NOW)
    assert len(features(big, "dz:hazard_points")) == 2 * len(features(a, "dz:hazard_points"))


def test_hazard_points_lie_in_the_eastern_mountain_towns_with_consistent_grades() -> None:
    app = create_app(seed=11, scale=1.0)
    app.state.clock.freeze(NOW)
    towns = division_names()
    sites = features(app, "dz:hazard_points")
    assert len({f["properties"]["yhdbh"] for f in sites}) == len(sites)
    for feature in sites:
        p = feature["properties"]
        assert towns[p["xzqh"]] in TOWN_WEIGHTS
        assert p["xqdj"] == danger_grade(p["wxrs"])
        assert p["lx"] in ("滑坡", "崩塌", "泥石流", "地面塌陷", "地裂缝", "地面沉降")
        assert (p["zt"] == "核销") == (p["fzcs"] == "已销号")
        lon, lat = feature["geometry"]["coordinates"]
        assert 122.6 < lon < 123.35 and 40.45 < lat < 41.05
        assert p["gxsj"] <= "2026-11-28"
    grades = Counter(f["properties"]["xqdj"] for f in sites)
    assert grades["小型"] > grades["中型"] > 0 and grades["大型"] + grades["特大型"] > 0


def test_mining_rights_are_mostly_magnesite_and_talc_with_valid_credit_codes() -> None:
    app = create_app(seed=11, scale=1.0)
    app.state.clock.freeze(NOW)
    towns = division_names()
    licences = [f["properties"] for f in features(app, "kc:mining_rights")]
    minerals = Counter(p["kz"] for p in licences)
    assert (minerals["菱镁矿"] + minerals["滑石"]) / len(licences) > 0.6
    assert minerals.most_common(1)[0][0] == "菱镁矿"
    core = Counter(towns[p["xzqh"]] for p in licences)
    assert sum(core[t] for t in ("八里镇", "牌楼镇", "析木镇", "马风镇")) / len(licences) > 0.7
    assert all(is_valid_credit_code(p["tyshxydm"]) for p in licences)
    assert all(p["yxqq"] < p["yxqz"] for p in licences)
    assert all((p["zt"] == "有效") <= (p["yxqz"] >= "2026-11-28") for p in licences)
    assert len({p["cqr"] for p in licences}) < len(licences)  # some companies hold several licences


def test_shelters_are_urban_and_classed() -> None:
    app = create_app(seed=11, scale=1.0)
    towns = division_names()
    for feature in features(app, "yj:shelters"):
        p = feature["properties"]
        assert towns[p["xzqh"]].endswith("街道")
        assert p["lb"] in ("Ⅰ类", "Ⅱ类", "Ⅲ类")
        assert feature["geometry"]["type"] == ("Point" if p["lb"] == "Ⅲ类" else "Polygon")
        assert p["rnrs"] < p["mj"]


# -- over HTTP ----------------------------------------------------------------------------------------------
@pytest.fixture
def wfs(standin_servers: StandinServers) -> tuple[httpx.Client, Any]:
    app = create_app(seed=3, scale=0.5)
    app.state.clock.freeze(NOW)
    return standin_servers.client(standin_servers.start(app), timeout=10), app


def get_all(client: httpx.Client, layer: str, count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    start = 0
    while True:
        body = client.get(
            "/geoserver/wfs",
            params={**BASE, "typeNames": layer, "count": count, "startIndex": start, "sortBy": LAYERS[layer].key},
        ).json()
        got += body["features"]
        start += body["numberReturned"]
        if start >= body["numberMatched"] or not body["numberReturned"]:
            return got


@pytest.mark.integration
def test_capabilities_list_the_layers(wfs) -> None:
    client, _ = wfs
    reply = client.get("/geoserver/wfs", params={"SERVICE": "WFS", "REQUEST": "GetCapabilities"})
    assert reply.status_code == 200
    names = [e.text for e in ElementTree.fromstring(reply.content).iter("{http://www.opengis.net/wfs/2.0}Name")]
    assert names == list(LAYERS)


@pytest.mark.integration
def test_paging_sorted_by_key_returns_every_feature_once(wfs) -> None:
    client, app = wfs
    for layer in LAYERS:
        got = get_all(client, layer, 7)
        keys = [f["properties"][LAYERS[layer].key] for f in got]
        assert keys == sorted(keys) and len(keys) == len(set(keys)) == len(features(app, layer))
    body = client.get("/geoserver/wfs", params={**BASE, "typeNames": "dz:hazard_points", "count": 5000}).json()
    assert body["numberReturned"] == min(1000, body["numberMatched"])
    assert body["features"][0]["properties"]["gxsj"].endswith("Z")  # GeoServer's way of writing a date


@pytest.mark.integration
@pytest.mark.parametrize(
    ("params", "code", "locator"),
    [
        ({"typeNames": "dz:nope"}, "InvalidParameterValue", "typeName"),
        ({}, "MissingParameterValue", "typeNames"),
        ({"typeNames": "dz:hazard_points", "count": "ten"}, "InvalidParameterValue", "count"),
        ({"typeNames": "dz:hazard_points", "sortBy": "nope DESC"}, "InvalidParameterValue", "sortBy"),
        ({"typeNames": "dz:hazard_points", "outputFormat": "GML3"}, "InvalidParameterValue", "outputFormat"),
    ],
)
def test_bad_requests_get_an_exception_report_with_400_or_200(wfs, params, code, locator) -> None:
    client, app = wfs
    for status in (400, 200):
        app.state.service.faults.exceptions_http_200 = status == 200
        reply = client.get("/geoserver/wfs", params={**BASE, **params})
        assert reply.status_code == status
        exc = ElementTree.fromstring(reply.content).find(f"{OWS}Exception")
        assert exc is not None and exc.get("exceptionCode") == code and exc.get("locator") == locator
        assert exc.findtext(f"{OWS}ExceptionText")


@pytest.mark.integration
def test_changes_between_pulls(wfs) -> None:
    client, app = wfs
    before = {f["properties"]["yhdbh"]: f["properties"]["zt"] for f in get_all(client, "dz:hazard_points", 1000)}
    retired = client.post("/__admin/changes", json={"change": "retire_hazard_point"}).json()["key"]
    licence = app.state.service.add_mining_licence()
    after = {f["properties"]["yhdbh"]: f["properties"]["zt"] for f in get_all(client, "dz:hazard_points", 1000)}
    assert before[retired] == "在册" and after[retired] == "核销"
    assert {k: v for k, v in after.items() if k != retired} == {k: v for k, v in before.items() if k != retired}
    new = next(f for f in get_all(client, "kc:mining_rights", 1000) if f["properties"]["xkzh"] == licence)
    assert new["properties"]["yxqq"] == "2026-11-28Z" and new["properties"]["zt"] == "有效"
    assert client.post("/__admin/changes", json={"change": "drop_table"}).status_code == 400


@pytest.mark.integration
def test_fault_switches(wfs) -> None:
    client, app = wfs
    faults = app.state.service.faults
    client.post("/__admin/faults", json={"backend_error": True, "exceptions_http_200": True})
    reply = client.get("/geoserver/wfs", params={**BASE, "typeNames": "yj:shelters"})
    assert reply.status_code == 200 and b"NoApplicableCode" in reply.content
    faults.update({"backend_error": False, "outage": True})
    assert client.get("/geoserver/wfs", params={**BASE, "typeNames": "yj:shelters"}).status_code == 503
    faults.update({"outage": False, "malformed_rate": 0.3})
    got = get_all(client, "kc:mining_rights", 1000)
    broken = [
        f
        for f in got
        if f["geometry"] is None
        or "xkzh" not in f["properties"]
        or (f["geometry"]["type"] == "Polygon" and f["geometry"]["coordinates"][0][0][0] < 90)
    ]
    assert broken and len(got) == len(features(app, "kc:mining_rights"))
    faults.update({"malformed_rate": 0.0, "unstable_sort_rate": 1.0})
    keys = [f["properties"]["yhdbh"] for f in get_all(client, "dz:hazard_points", 10)]
    assert len(keys) > len(set(keys)) and len(set(keys)) < len(features(app, "dz:hazard_points"))
    assert client.get("/__admin/stats").json()["counters"]["unstable_pages"] > 0
