"""Reading the warnings dataset over recorded responses (given / when / then)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from connectors.context import SourceContext
from connectors.http import SourceRejected, install_body_limit
from connectors.weather.cap import WARNINGS
from connectors.weather.source import WeatherSource, create
from edp.ingest.extract import _Typed, type_page

RECORDED = Path(__file__).parent / "recorded"
BLUE = "21038141600000_20260716051000_0"
YELLOW = "21038141600000_20260716080500_0"
UNTIL = datetime(2026, 7, 16, 1, 0, tzinfo=UTC)  # 09:00 in Haicheng


def _recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


MESSAGES = {
    BLUE: _recorded("national_rainstorm_blue_alert.xml"),
    YELLOW: _recorded("national_rainstorm_yellow_update.xml"),
}

Handler = Callable[[httpx.Request], httpx.Response]


def _source(handler: Handler, seen: list[httpx.Request], **kwargs: object) -> WeatherSource:
    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    src = WeatherSource("http://weather.test", "k", initial_days=1, **kwargs)  # type: ignore[arg-type]
    src.http.client = httpx.Client(
        base_url="http://weather.test", transport=httpx.MockTransport(recording), headers={"X-Api-Key": "k"}
    )
    install_body_limit(src.http.client)
    src.http.limiter.interval = 0
    src.http.wait.backoff = lambda state: 0  # type: ignore[assignment]
    return src


def _bureau(feed: bytes = _recorded("feed.xml"), messages: dict[str, bytes] | None = None) -> Handler:
    messages = MESSAGES if messages is None else messages

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/cap/feed":
            return httpx.Response(200, content=feed, headers={"Content-Type": "application/atom+xml"})
        name = request.url.path.removeprefix("/cap/messages/").removesuffix(".xml")
        if name in messages:
            return httpx.Response(200, content=messages[name], headers={"Content-Type": "application/cap+xml"})
        return httpx.Response(404, json={"error": f"no published message {name!r}"})

    return handler


def _typed(src: WeatherSource, pages: list) -> _Typed:
    typed = _Typed()
    for number, page in enumerate(pages, start=1):
        type_page(src, WARNINGS, page, f"landing/weather/warnings/page-{number:05d}.bin.gz", typed)
    return typed


def test_one_page_per_message_then_the_feed_with_the_cursor() -> None:
    # given a feed that lists the yellow update twice and the blue alert once
    seen: list[httpx.Request] = []
    src = _source(_bureau(), seen)
    # when the dataset is read for the first time
    pages = list(src.read("warnings", None, UNTIL))
    # then each message is fetched once, oldest first, and its original bytes are the page
    assert [p.locator for p in pages] == [
        f"GET /cap/messages/{BLUE}.xml",
        f"GET /cap/messages/{YELLOW}.xml",
        pages[-1].locator,
    ]
    assert pages[0].body == MESSAGES[BLUE] and pages[0].content_type == "application/cap+xml"
    assert [r.url.path for r in seen].count(f"/cap/messages/{YELLOW}.xml") == 1
    # the last page is the feed itself, carrying the latest <updated> processed
    assert pages[-1].content_type == "application/atom+xml" and pages[-1].records == []
    assert pages[-1].cursor == "2026-07-16T08:25:00+08:00"
    assert all(p.cursor is None for p in pages[:-1])
    # the first read starts initial_days back; every CAP request asks for an uncompressed body
    assert seen[0].url.params["since"] == "2026-07-15T09:00:00+08:00"
    assert all(r.headers["Accept-Encoding"] == "identity" and r.headers["X-Api-Key"] == "k" for r in seen)
    typed = _typed(src, pages)
    assert set(typed.rows) == {(BLUE,), (YELLOW,)} and not typed.quarantined


def test_cursor_is_read_back_with_a_small_lookback() -> None:
    seen: list[httpx.Request] = []
    src = _source(_bureau(), seen, cap_lookback_minutes=10)
    pages = list(src.read("warnings", "2026-07-16T08:25:00+08:00", UNTIL))
    assert seen[0].url.params["since"] == "2026-07-16T08:15:00+08:00"
    # what the feed still lists is read again (the loader keeps unchanged content once)
    assert pages[-1].cursor == "2026-07-16T08:25:00+08:00"


def test_entries_newer_than_until_wait_for_the_next_run() -> None:
    seen: list[httpx.Request] = []
    src = _source(_bureau(), seen)
    until = datetime(2026, 7, 16, 0, 10, tzinfo=UTC)  # 08:10: the repeat at 08:25 is not yet due
    pages = list(src.read("warnings", None, until))
    assert pages[-1].cursor == "2026-07-16T08:05:00+08:00"
    assert len(pages) == 3


def test_empty_feed_leaves_the_cursor_alone() -> None:
    feed = b'<feed xmlns="http://www.w3.org/2005/Atom"><id>x</id><title>t</title><updated>2026-07-16T00:00:00Z</updated></feed>'
    seen: list[httpx.Request] = []
    (page,) = list(_source(_bureau(feed=feed), seen).read("warnings", None, UNTIL))
    assert page.cursor is None and page.records == []


def _big_messages(size: int, chunk: int, counter: list[int], stream: bool) -> Handler:
    def chunks() -> Iterator[bytes]:
        for _ in range(size // chunk):
            counter[0] += 1
            yield b" " * chunk

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/cap/messages/{BLUE}.xml":
            if stream:
                return httpx.Response(200, content=chunks())  # chunked: no Content-Length
            return httpx.Response(200, content=b" " * size)
        return _bureau()(request)

    return handler


@pytest.mark.parametrize("stream", [False, True], ids=["content-length", "streamed"])
def test_oversize_message_is_refused_while_reading_and_quarantined(stream: bool) -> None:
    counter = [0]
    seen: list[httpx.Request] = []
    src = _source(_big_messages(4 * 1024 * 1024, 64 * 1024, counter, stream), seen, cap_max_bytes=1024 * 1024)
    pages = list(src.read("warnings", None, UNTIL))
    refused = pages[0]
    assert refused.locator == f"GET /cap/messages/{BLUE}.xml"
    assert refused.content_type == "application/json"  # a note is landed: the body was never kept
    reason = json.loads(refused.body)["refused"]
    assert ("Content-Length 4194304" in reason) if not stream else ("refused while reading" in reason)
    assert counter[0] <= 17  # reading stopped just past 1 MB of the 4 MB on offer
    typed = _typed(src, pages)
    (quarantined,) = typed.quarantined
    assert quarantined["field"] == "xml" and "1048576-byte limit" in quarantined["reason"]
    assert quarantined["record"]["identifier"] == BLUE
    assert set(typed.rows) == {(YELLOW,)}  # the good message of the batch still loads


def test_compressed_answers_are_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/cap/messages/{BLUE}.xml":
            return httpx.Response(200, content=gzip.compress(MESSAGES[BLUE]), headers={"Content-Encoding": "gzip"})
        return _bureau()(request)

    seen: list[httpx.Request] = []
    src = _source(handler, seen)
    typed = _typed(src, list(src.read("warnings", None, UNTIL)))
    (quarantined,) = typed.quarantined
    assert "Content-Encoding 'gzip'" in quarantined["reason"]


def test_a_message_the_bureau_cannot_find_is_quarantined() -> None:
    seen: list[httpx.Request] = []
    src = _source(_bureau(messages={YELLOW: MESSAGES[YELLOW]}), seen)
    typed = _typed(src, list(src.read("warnings", None, UNTIL)))
    (quarantined,) = typed.quarantined
    assert quarantined["field"] == "http" and "HTTP 404" in quarantined["reason"]
    assert quarantined["locator"] == "landing/weather/warnings/page-00001.bin.gz record 0"
    assert set(typed.rows) == {(YELLOW,)}


def test_rejected_credentials_stop_the_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/cap/messages/"):
            return httpx.Response(401, json={"error": "invalid X-Api-Key"})
        return _bureau()(request)

    seen: list[httpx.Request] = []
    with pytest.raises(SourceRejected, match="401"):
        list(_source(handler, seen).read("warnings", None, UNTIL))


def test_links_to_other_hosts_are_not_followed() -> None:
    feed = _recorded("feed.xml").replace(b"http://weather.test/cap/messages/", b"http://169.254.169.254/latest/")
    seen: list[httpx.Request] = []
    src = _source(_bureau(feed=feed), seen)
    typed = _typed(src, list(src.read("warnings", None, UNTIL)))
    assert all(r.url.host == "weather.test" for r in seen)
    (quarantined,) = typed.quarantined
    assert quarantined["field"] == "link" and "outside http://weather.test" in quarantined["reason"]
    assert set(typed.rows) == {(BLUE,)}  # its link is relative to the source


def test_unreadable_feed_entries_are_quarantined_on_the_feed_page() -> None:
    feed = _recorded("feed.xml").replace(b"<id>21038141600000_20260716051000_0</id>", b"")
    seen: list[httpx.Request] = []
    src = _source(_bureau(feed=feed), seen)
    pages = list(src.read("warnings", None, UNTIL))
    typed = _typed(src, pages)
    (quarantined,) = typed.quarantined
    assert quarantined["field"] == "feed" and quarantined["reason"] == "feed entry 3 has no <id>"
    assert quarantined["locator"].startswith(f"landing/weather/warnings/page-{len(pages):05d}")


@pytest.mark.parametrize("feed", [b"<html>gateway error</html>", b"<feed", b"\x00" * 10])
def test_a_feed_that_cannot_be_read_stops_the_dataset_clearly(feed: bytes) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(SourceRejected, match=r"GET /cap/feed\?since=.*the CAP feed was not read"):
        list(_source(_bureau(feed=feed), seen).read("warnings", None, UNTIL))


def test_transient_errors_on_messages_are_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/cap/messages/{BLUE}.xml":
            calls["n"] += 1
            if calls["n"] < 3:
                return httpx.Response(503, json={"error": "service temporarily unavailable"})
        return _bureau()(request)

    seen: list[httpx.Request] = []
    src = _source(handler, seen)
    typed = _typed(src, list(src.read("warnings", None, UNTIL)))
    assert calls["n"] == 3 and set(typed.rows) == {(BLUE,), (YELLOW,)}


def test_warnings_are_declared_next_to_the_other_datasets() -> None:
    src = WeatherSource("http://weather.test", "k")
    assert list(src.datasets()) == ["stations", "observations", "warnings"]
    ds = src.datasets()["warnings"]
    assert ds.table == "weather__warnings" and ds.primary_key == ("identifier",) and ds.mode == "incremental"
    for name in (
        "identifier",
        "profile",
        "sender",
        "sent_at",
        "msg_type",
        "status",
        "references",
        "event_type_code",
        "event_name",
        "signal",
        "severity_colour",
        "severity_raw",
        "urgency",
        "certainty",
        "effective_at",
        "onset_at",
        "expires_at",
        "headline",
        "description",
        "instruction",
        "area_desc",
        "division_codes",
        "polygon",
        "channels",
        "raw_xml_sha256",
    ):
        assert name in ds.field_names
    assert not any(f.pii for f in ds.fields)
    src.close()


def test_an_entry_without_a_link_is_fetched_by_its_identifier() -> None:
    feed = _recorded("feed.xml").replace(b'<link href="/cap/messages/21038141600000_20260716051000_0.xml"/>', b"")
    seen: list[httpx.Request] = []
    src = _source(_bureau(feed=feed), seen)
    typed = _typed(src, list(src.read("warnings", None, UNTIL)))
    assert f"/cap/messages/{BLUE}.xml" in [r.url.path for r in seen]
    assert set(typed.rows) == {(BLUE,), (YELLOW,)}


def test_options_from_sources_yml() -> None:
    ctx = SourceContext(
        name="weather",
        url="http://weather.test",
        options={"cap_max_bytes": 2048, "cap_lookback_minutes": 30, "cap_initial_days": 7},
        params={"weather_initial_days": 2},
    )
    src = create(ctx)
    assert src.cap_max_bytes == 2048
    assert src.cap_lookback == timedelta(minutes=30) and src.cap_initial == timedelta(days=7)
    assert create(
        SourceContext(name="weather", url="http://weather.test", params={"weather_initial_days": 2})
    ).cap_initial == timedelta(days=2)
    src.close()
