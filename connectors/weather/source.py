"""气象局 weather bureau: stations, hourly observations and CAP warnings (weather.md).

The API is read by observation time with a lookback, because the bureau
re-issues a row with corrected values up to 6 hours after ``obs_time``.

Warnings come from the CAP feed: ``GET /cap/feed?since=`` (Atom), then each new
entry's message. Parsing is in :mod:`connectors.weather.cap`; here is the
fetching: every CAP body is size-capped while it is read (``connectors.http.limit_body``), a
feed link may not leave the source's host, and a message that cannot be read
(oversize, refused XML, a 404) becomes a quarantined record rather than
stopping the batch. One Page per message (its original bytes: warnings carry no
personal information), then one Page with the feed itself, which carries the
cursor: the latest ``<updated>`` processed, re-read with a small lookback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from connectors.base import CheckResult, CheckStatus, Page, Source, check_status
from connectors.context import SourceContext
from connectors.http import MAX_BODY, BodyTooLarge, HttpClient, SourceRejected, SourceUnavailable
from connectors.limits import Limits, check_page
from connectors.schema import DIVISION_CODE, LOCAL_TZ, Dataset, Field, parse_time
from connectors.weather import cap as weather_cap
from connectors.weather.cap import WARNINGS, CapRefused, FeedEntry

log = logging.getLogger(__name__)

SOURCE = "weather"
MISSING = 999999  # the bureau's "no value"
MAX_WINDOW = timedelta(days=7)

_STATION_ID = Field("station_id", "text", required=True, description="站号 station id")

STATIONS = Dataset(
    source=SOURCE,
    name="stations",
    title="气象站点 weather stations",
    mode="snapshot",
    primary_key=("station_id",),
    fields=(
        _STATION_ID,
        Field("name", "text", description="站名 name"),
        Field("lon", "float", description="经度 longitude, CGCS2000"),
        Field("lat", "float", description="纬度 latitude, CGCS2000"),
        Field("altitude_m", "float", description="海拔 altitude (m)"),
        DIVISION_CODE,
        Field("kind", "text", description="national | regional"),
        Field("active", "bool", description="在用 in use"),
    ),
)

_MEASURES = (
    ("temp_c", "气温 temperature (°C)"),
    ("precip_1h_mm", "1小时降水 precipitation in the past hour (mm)"),
    ("wind_speed_ms", "10分钟平均风速 wind speed (m/s)"),
    ("wind_gust_ms", "小时极大风速 max gust (m/s)"),
    ("wind_dir_deg", "风向 wind direction (°)"),
    ("rh_pct", "相对湿度 relative humidity (%)"),
    ("visibility_m", "能见度 visibility (m)"),
    ("pressure_hpa", "本站气压 station pressure (hPa)"),
)

OBSERVATIONS = Dataset(
    source=SOURCE,
    name="observations",
    title="逐时观测 hourly observations",
    mode="incremental",
    primary_key=("station_id", "obs_time"),
    fields=(
        _STATION_ID,
        Field("obs_time", "timestamptz", required=True, description="观测时间 the hour the values describe"),
        *(Field(name, "float", description=desc) for name, desc in _MEASURES),
        Field("qc", "int", description="质控码 0 checked, 1 suspect, 2 wrong, 9 missing"),
        Field("updated_at", "timestamptz", required=True, description="更新时间 when the row was last written"),
    ),
    extra={"lookback_hours": 6},
)


# Identity only: a compressed body's size after decompression could not be bounded.
_CAP_HEADERS = {"Accept": "application/atom+xml, application/cap+xml, application/xml", "Accept-Encoding": "identity"}


DATASETS: dict[str, Dataset] = {"stations": STATIONS, "observations": OBSERVATIONS, "warnings": WARNINGS}


class WeatherSource(Source):
    name = SOURCE
    title = "气象局 weather bureau"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        page_size: int = 1000,
        lookback_hours: int = 6,
        initial_days: int = 3,
        max_seconds: float = 120.0,
        timeout: float = 30.0,
        max_attempts: int = 8,
        cap_max_bytes: int = weather_cap.MAX_MESSAGE_BYTES,
        cap_feed_max_bytes: int = weather_cap.MAX_FEED_BYTES,
        cap_lookback_minutes: int = 10,
        cap_initial_days: int | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.http = HttpClient(
            base_url,
            source=SOURCE,
            headers={"X-Api-Key": api_key},
            rate_per_second=8,  # the bureau answers 429 above 10 a second
            max_seconds=max_seconds,
            timeout=timeout,
            max_attempts=max_attempts,
            max_body_bytes=self.limits.max_body_bytes,
        )
        # Never ask for more than a page may hold (limits.max_page_records).
        self.page_size = min(page_size, self.limits.max_page_records)
        self.lookback = timedelta(hours=lookback_hours)
        self.initial = timedelta(days=initial_days)
        self.cap_max_bytes = cap_max_bytes
        self.cap_feed_max_bytes = cap_feed_max_bytes
        # Entries may reach the feed a little after their <updated>: re-read that much.
        self.cap_lookback = timedelta(minutes=cap_lookback_minutes)
        self.cap_initial = timedelta(days=initial_days if cap_initial_days is None else cap_initial_days)

    def datasets(self) -> dict[str, Dataset]:
        return dict(DATASETS)

    def check(self) -> CheckResult:
        try:
            body = self.http.get("/api/v1/stations").json()
        except SourceRejected as exc:
            hint = " (API key rejected)" if exc.status == 401 else ""
            return CheckResult(SOURCE, False, f"{exc}{hint}", status=check_status(exc))
        except (SourceUnavailable, BodyTooLarge) as exc:
            return CheckResult.failed(SOURCE, exc)
        except ValueError:
            return CheckResult(
                SOURCE, False, "/api/v1/stations answered a body that is not JSON", status=CheckStatus.WRONG_CONTRACT
            )
        stations = body.get("stations") if isinstance(body, dict) else None
        if not isinstance(stations, list):
            return CheckResult(
                SOURCE,
                False,
                "/api/v1/stations answered a body without a stations list",
                status=CheckStatus.WRONG_CONTRACT,
            )
        count = len(stations)
        return CheckResult(SOURCE, True, f"reachable, {count} stations", {"stations": count})

    def read(self, dataset: str, cursor: str | None, until: datetime) -> Iterator[Page]:
        if dataset == "stations":
            yield self._page("/api/v1/stations", {}, "stations", cursor=None)
            return
        if dataset == "warnings":
            yield from self._warnings(cursor, until)
            return
        if dataset != "observations":
            raise KeyError(f"weather has no dataset {dataset!r}")
        yield from self._observations(cursor, until)

    def _observations(self, cursor: str | None, until: datetime) -> Iterator[Page]:
        end = until.astimezone(LOCAL_TZ).replace(minute=0, second=0, microsecond=0)
        start = parse_time(cursor) - self.lookback if cursor else end - self.initial
        start = start.astimezone(LOCAL_TZ)
        while start < end:
            window_end = min(start + MAX_WINDOW, end)
            params: dict[str, Any] = {
                "start": start.isoformat(),
                "end": window_end.isoformat(),
                "page_size": self.page_size,
            }
            while True:
                page = self._page("/api/v1/observations", params, "observations", cursor=None)
                token = json.loads(page.body).get("next_page_token")
                if token is not None and not isinstance(token, str):
                    raise SourceRejected(f"weather: {page.locator} answered a next_page_token that is not text", 200)
                if not token:
                    page.cursor = window_end.isoformat()
                    yield page
                    break
                yield page
                params = {**params, "page_token": token}
            start = window_end

    def _page(self, path: str, params: dict[str, Any], key: str, cursor: str | None) -> Page:
        response = self.http.get(path, params=params)
        locator = f"GET {path}?" + "&".join(f"{k}={v}" for k, v in params.items())
        try:
            payload = response.json()
            records = payload[key]
            if not isinstance(records, list):
                raise TypeError(f"{key!r} is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceRejected(
                f"weather: {locator} answered a body without a {key!r} list: {exc}", response.status_code
            ) from None
        check_page(len(records), params.get("page_size"), self.limits, f"weather: {locator}")
        return Page(response.content, "application/json", records, locator, cursor)

    def feed(self, since: datetime) -> tuple[httpx.Response, list[FeedEntry]]:
        """The CAP feed's index since ``since``: bounded, parsed, not yet the messages (the warning lane's probe)."""
        params = {"since": since.astimezone(LOCAL_TZ).isoformat()}
        locator = f"GET /cap/feed?since={params['since']}"
        try:
            response = self.http.get(
                "/cap/feed", params=params, headers=_CAP_HEADERS, extensions={MAX_BODY: self.cap_feed_max_bytes}
            )
            return response, weather_cap.parse_feed(response.content, locator, self.cap_feed_max_bytes)
        except (BodyTooLarge, CapRefused) as exc:
            # The feed is the index of the batch: without it there is nothing to quarantine, so stop clearly.
            raise SourceRejected(f"weather: {locator}: the CAP feed was not read: {exc}", 0) from None

    def _warnings(self, cursor: str | None, until: datetime) -> Iterator[Page]:
        since = parse_time(cursor) - self.cap_lookback if cursor else until - self.cap_initial
        params = {"since": since.astimezone(LOCAL_TZ).isoformat()}
        locator = f"GET /cap/feed?since={params['since']}"
        response, entries = self.feed(since)
        problems = [e for e in entries if e.problem]
        # Oldest first; entries newer than ``until`` are left for the next run.
        good = sorted(
            (
                (e.updated, e.identifier, e)
                for e in entries
                # An entry without a problem has an identifier and a time (cap.parse_feed).
                if not e.problem and e.identifier is not None and e.updated and e.updated <= until
            ),
            key=lambda item: item[0],
        )
        latest = parse_time(cursor) if cursor else None
        seen: set[str] = set()
        for updated, identifier, entry in good:
            latest = max(latest, updated) if latest else updated
            if identifier in seen:
                # weather.md: the feed can repeat a message; the same identifier is the same message.
                log.info("weather: CAP feed repeats %s; fetched once", identifier)
                continue
            seen.add(identifier)
            yield self._message_page(entry)
        feed_url = f"/cap/feed?since={params['since']}"
        refused = [weather_cap.refused_record(e.identifier, "feed", e.problem or "", url=feed_url) for e in problems]
        new_cursor = latest.astimezone(LOCAL_TZ).isoformat() if latest else None
        # The feed's own bytes are landed too; its page carries the cursor and any unreadable entries.
        yield Page(response.content, "application/atom+xml", refused, locator, new_cursor)

    def _message_page(self, entry: FeedEntry) -> Page:
        try:
            url = self._message_url(entry)
        except CapRefused as exc:
            return _refused_page(entry, exc.field_name, exc.reason, f"feed entry {entry.identifier}", entry.href or "")
        path = url.raw_path.decode("ascii")
        locator = f"GET {path}"
        try:
            response = self.http.get(url, headers=_CAP_HEADERS, extensions={MAX_BODY: self.cap_max_bytes})
        except BodyTooLarge as exc:
            return _refused_page(entry, "xml", f"refused: {exc}", locator, path)
        except SourceRejected as exc:
            if exc.status in (401, 403):
                raise
            return _refused_page(entry, "http", str(exc), locator, path)
        record = weather_cap.message_record(entry.identifier, response.content, url=path, max_bytes=self.cap_max_bytes)
        return Page(response.content, "application/cap+xml", [record], locator)

    def _message_url(self, entry: FeedEntry) -> httpx.URL:
        base = self.http.client.base_url
        if not entry.href:
            return base.join(f"cap/messages/{quote(entry.identifier or '', safe='')}.xml")
        target = base.join(entry.href)
        # An untrusted feed must not point the connector at other hosts (SSRF).
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            raise CapRefused("link", f"feed entry links to {entry.href!r}, outside {base}; not fetched")
        return target

    def normalise(self, dataset: str, record: dict[str, Any]) -> dict[str, Any]:
        if dataset == "warnings":
            return weather_cap.normalise_warning(record)
        if dataset != "observations":
            return record
        cleaned = dict(record)
        for name, _ in _MEASURES:
            value = cleaned.get(name)
            if value == MISSING or value == str(MISSING):
                cleaned[name] = None
        return cleaned

    def close(self) -> None:
        self.http.close()


def _refused_page(entry: FeedEntry, field_name: str, reason: str, locator: str, url: str) -> Page:
    """A message that was not read: a JSON note is landed (there are no original bytes to keep)."""
    note = json.dumps({"identifier": entry.identifier, "refused": reason}, ensure_ascii=False).encode(
        "utf-8", "backslashreplace"
    )
    record = weather_cap.refused_record(entry.identifier, field_name, reason, url=url)
    return Page(note, "application/json", [record], locator)


def create(ctx: SourceContext) -> WeatherSource:
    # A check (ctx.check_timeout) tries once, briefly; an ingest keeps the retries.
    quick = ctx.check_timeout
    return WeatherSource(
        ctx.url,
        ctx.credential("api_key"),
        page_size=int(ctx.options.get("page_size", 1000)),
        lookback_hours=int(ctx.params.get("weather_lookback_hours", 6)),
        initial_days=int(ctx.params.get("weather_initial_days", 3)),
        max_seconds=quick or float(ctx.options.get("max_seconds", 120)),
        timeout=quick or 30.0,
        max_attempts=1 if quick else 8,
        cap_max_bytes=int(ctx.options.get("cap_max_bytes", weather_cap.MAX_MESSAGE_BYTES)),
        cap_feed_max_bytes=int(ctx.options.get("cap_feed_max_bytes", weather_cap.MAX_FEED_BYTES)),
        cap_lookback_minutes=int(ctx.options.get("cap_lookback_minutes", 10)),
        cap_initial_days=int(ctx.options["cap_initial_days"]) if "cap_initial_days" in ctx.options else None,
        limits=ctx.limits,
    )
