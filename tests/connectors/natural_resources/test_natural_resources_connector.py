"""The WFS connector on recorded GeoServer answers (given / when / then)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.natural_resources.ows import WfsExceptionReport, exception_report
from connectors.natural_resources.source import (
    HAZARD_POINTS,
    MINING_RIGHTS,
    IncompleteSnapshot,
    NaturalResourcesSource,
    cursor_digest,
)
from edp.ingest.extract import _Typed, type_page

RECORDED = Path(__file__).parent / "recorded"
UNTIL = datetime(2026, 11, 28, 3, tzinfo=UTC)
KEY = b"unit-test-pii-key-0123456789abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


def source(handler: Handler, **kwargs: Any) -> NaturalResourcesSource:
    return NaturalResourcesSource(
        "http://wfs.test", KEY, transport=httpx.MockTransport(handler), max_seconds=2, **kwargs
    )


def paged(pages: dict[int, bytes], seen: list[httpx.Request]) -> Handler:
    """Answers GetFeature by startIndex from recorded pages."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        start = int(request.url.params.get("startIndex", 0))
        return httpx.Response(200, content=pages[start], headers={"content-type": "application/json;charset=UTF-8"})

    return handler


HAZARD_PAGES = {0: recorded("hazard_points_page1.json"), 2: recorded("hazard_points_page2.json")}


def typed(src: NaturalResourcesSource, ds: Any, pages: list[Any]) -> _Typed:
    out = _Typed()
    for number, page in enumerate(pages, start=1):
        type_page(src, ds, page, f"landing/natural_resources/{ds.name}/page-{number:05d}.json.gz", out)
    return out


def test_pages_through_the_layer_sorted_by_key_and_sets_a_digest_cursor() -> None:
    seen: list[httpx.Request] = []
    src = source(paged(HAZARD_PAGES, seen), page_size=2)
    pages = list(src.read("hazard_points", None, UNTIL))
    assert [len(p.records) for p in pages] == [2, 1]
    params = seen[0].url.params
    assert (params["service"], params["version"], params["request"]) == ("WFS", "2.0.0", "GetFeature")
    assert params["typeNames"] == "dz:hazard_points" and params["outputFormat"] == "application/json"
    assert params["sortBy"] == "yhdbh" and params["count"] == "2"
    assert [r.url.params["startIndex"] for r in seen] == ["0", "2"]
    assert pages[0].cursor is None
    assert pages[-1].cursor and cursor_digest(pages[-1].cursor) and pages[-1].cursor[:4] == f"{datetime.now(UTC):%Y}"


def test_monitoring_person_is_pseudonymised_in_records_and_in_the_landed_body() -> None:
    src = source(paged(HAZARD_PAGES, []), page_size=2)
    pages = list(src.read("hazard_points", None, UNTIL))
    landed = b"".join(p.body for p in pages).decode("utf-8")
    for name in ("关振华", "佟德胜", "白春生"):
        assert name not in landed
        assert name not in json.dumps([p.records for p in pages], ensure_ascii=False)
    out = typed(src, HAZARD_POINTS, pages)
    rows = {r["yhdbh"]: r for r in out.rows.values()}
    assert rows["21038110403001"]["jczrr_masked"] == "关**"
    assert rows["21038110102003"]["jczrr_masked"] == "白**"  # the trailing space is not part of the name
    assert rows["21038110403001"]["jczrr_pseudonym"].startswith("name_")
    # Same person, same pseudonym (a keyed HMAC): linkable without being readable.
    again = typed(
        src, HAZARD_POINTS, list(source(paged(HAZARD_PAGES, []), page_size=2).read("hazard_points", None, UNTIL))
    )
    assert {r["jczrr_pseudonym"] for r in again.rows.values()} == {r["jczrr_pseudonym"] for r in rows.values()}


def test_records_are_typed_with_geometry_and_geoserver_dates() -> None:
    src = source(paged(HAZARD_PAGES, []), page_size=2)
    out = typed(src, HAZARD_POINTS, list(src.read("hazard_points", None, UNTIL)))
    assert out.quarantined == [] and out.duplicates == 0
    row = next(r for r in out.rows.values() if r["yhdbh"] == "21038110301002")
    assert row["gxsj"].isoformat() == "2026-07-10"
    assert (row["wxrs"], row["xqdj"], row["wxcc"]) == (612, "大型", 2950.0)
    assert row["geometry_wkt"] == "POINT (123.081671 40.718822)"
    assert (row["lon"], row["lat"]) == (123.081671, 40.718822)
    assert json.loads(row["geometry_geojson"]) == {"type": "Point", "coordinates": [123.081671, 40.718822]}
    assert row["feature_id"] == "hazard_points.2"


def test_polygons_get_wkt_and_a_point_inside_bad_features_are_quarantined_with_reason() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=recorded("mining_rights.json"), headers={"content-type": "application/json"})

    src = source(handler)
    pages = list(src.read("mining_rights", None, UNTIL))
    assert pages[0].body == recorded("mining_rights.json")  # no person in it: landed exactly as answered
    out = typed(src, MINING_RIGHTS, pages)
    (good,) = out.rows.values()
    assert good["xkzh"] == "C2103002201803101000001" and good["cqr"] == "海城市鑫源镁业有限公司"
    assert good["geometry_wkt"].startswith("POLYGON ((122.7 40.78, 122.712 40.78")
    # An L-shaped lease: its centroid lies outside, so the representative point is used instead.
    from shapely import Point, wkt

    assert wkt.loads(good["geometry_wkt"]).contains(Point(good["lon"], good["lat"]))
    reasons = {q["field"]: q["reason"] for q in out.quarantined}
    assert "Self-intersection" in reasons["geometry_geojson"]
    assert reasons["xkzh"] == "required value is missing"
    assert all(" record " in q["locator"] for q in out.quarantined)


def test_an_unchanged_snapshot_yields_nothing_however_it_is_paged() -> None:
    first = list(source(paged(HAZARD_PAGES, []), page_size=2).read("hazard_points", None, UNTIL))
    whole = json.loads(HAZARD_PAGES[0])
    whole["features"] += json.loads(HAZARD_PAGES[2])["features"]
    whole["numberReturned"] = 3
    seen: list[httpx.Request] = []
    one_page = source(paged({0: json.dumps(whole).encode()}, seen), page_size=1000)
    assert list(one_page.read("hazard_points", first[-1].cursor, UNTIL)) == []
    assert len(seen) == 1
    # A change anywhere in the layer is a new snapshot.
    whole["features"][2]["properties"]["zt"] = "在册"
    changed = source(paged({0: json.dumps(whole).encode()}, []), page_size=1000)
    pages = list(changed.read("hazard_points", first[-1].cursor, UNTIL))
    assert len(pages) == 1 and cursor_digest(pages[0].cursor) != cursor_digest(first[-1].cursor)


@pytest.mark.parametrize("status", [200, 400])
def test_exception_report_is_a_clear_rejection_whatever_the_status(status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, content=recorded("exception_report_nac.xml"), headers={"content-type": "text/xml"}
        )

    with pytest.raises(WfsExceptionReport) as caught:
        list(source(handler).read("hazard_points", None, UNTIL))
    message = str(caught.value)
    assert "exceptionCode=NoApplicableCode" in message and "locator=-" in message
    assert "Could not acquire a connection from the pool (zrzy_gis)" in message
    assert f"HTTP {status}" in message and "typeNames=dz:hazard_points" in message
    assert caught.value.code == "NoApplicableCode" and caught.value.status == status


def test_exception_report_names_code_locator_and_text() -> None:
    error = exception_report(recorded("exception_report_typename.xml"), 400, "GET /geoserver/wfs")
    assert error is not None
    assert error.exceptions == [
        {"code": "InvalidParameterValue", "locator": "typeName", "text": "Feature type dz:hazard_point unknown"}
    ]
    assert exception_report(recorded("capabilities.xml"), 200, "x") is None
    assert exception_report(b"<html><body>502</body></html>", 502, "x") is None


def test_unstable_paging_is_read_again_until_the_union_is_complete() -> None:
    # First read: the second page repeats feature 2 instead of giving feature 3 (an unstable sort).
    first = json.loads(HAZARD_PAGES[2])
    first["features"] = json.loads(HAZARD_PAGES[0])["features"][1:]
    answers = iter([HAZARD_PAGES[0], json.dumps(first).encode(), HAZARD_PAGES[0], HAZARD_PAGES[2]])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=next(answers), headers={"content-type": "application/json"})

    src = source(handler, page_size=2)
    pages = list(src.read("hazard_points", None, UNTIL))
    assert len(pages) == 4
    out = typed(src, HAZARD_POINTS, pages)
    assert len(out.rows) == 3 and out.duplicates == 3 and out.quarantined == []


def test_paging_that_never_completes_raises_and_yields_nothing() -> None:
    short = json.loads(HAZARD_PAGES[2])
    short["features"] = json.loads(HAZARD_PAGES[0])["features"][1:]

    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["startIndex"])
        return httpx.Response(
            200,
            content=HAZARD_PAGES[0] if start == 0 else json.dumps(short).encode(),
            headers={"content-type": "application/json"},
        )

    with pytest.raises(IncompleteSnapshot, match=r"2 distinct of numberMatched=3 features in 3 reads"):
        list(source(handler, page_size=2, snapshot_attempts=3).read("hazard_points", None, UNTIL))


def test_check_lists_the_three_layers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["request"] == "GetCapabilities"
        return httpx.Response(200, content=recorded("capabilities.xml"), headers={"content-type": "text/xml"})

    result = source(handler).check()
    assert result.ok, result.message
    assert result.details["layers"] == ["dz:hazard_points", "kc:mining_rights", "yj:shelters"]


def test_check_names_a_missing_layer_and_an_exception_report() -> None:
    body = recorded("capabilities.xml").replace(b"<wfs:Name>yj:shelters</wfs:Name>", b"<wfs:Name>yj:other</wfs:Name>")
    result = source(lambda r: httpx.Response(200, content=body)).check()
    assert not result.ok and "yj:shelters" in result.message
    failed = source(lambda r: httpx.Response(200, content=recorded("exception_report_nac.xml"))).check()
    assert not failed.ok and "NoApplicableCode" in failed.message


def test_a_clear_name_never_survives_normalise_even_when_unprocessed() -> None:
    src = source(paged(HAZARD_PAGES, []))
    record = {"yhdbh": "X1", "jczrr": "关振华", "geometry_geojson": '{"type":"Point","coordinates":[122.9,40.7]}'}
    out = src.normalise("hazard_points", record)
    assert "jczrr" not in out and out["jczrr_masked"] == "关**"
