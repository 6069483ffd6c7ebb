"""气象局 weather bureau: stations and hourly observations (weather.md).

The API is read by observation time with a lookback, because the bureau
re-issues a row with corrected values up to 6 hours after ``obs_time``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CheckResult, Page, Source
from connectors.context import SourceContext
from connectors.http import HttpClient, SourceRejected, SourceUnavailable
from connectors.schema import LOCAL_TZ, Dataset, Field, parse_time

SOURCE = "weather"
MISSING = 999999  # the bureau's "no value"
MAX_WINDOW = timedelta(days=7)

STATIONS = Dataset(
    source=SOURCE,
    name="stations",
    title="气象站点 weather stations",
    mode="snapshot",
    primary_key=("station_id",),
    fields=(
        Field("station_id", "text", required=True, description="站号 station id"),
        Field("name", "text", description="站名 name"),
        Field("lon", "float", description="经度 longitude, CGCS2000"),
        Field("lat", "float", description="纬度 latitude, CGCS2000"),
        Field("altitude_m", "float", description="海拔 altitude (m)"),
        Field("division_code", "text", required=True, description="所属辖区代码 12-digit division code"),
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
        Field("station_id", "text", required=True, description="站号 station id"),
        Field("obs_time", "timestamptz", required=True, description="观测时间 the hour the values describe"),
        *(Field(name, "float", description=desc) for name, desc in _MEASURES),
        Field("qc", "int", description="质控码 0 checked, 1 suspect, 2 wrong, 9 missing"),
        Field("updated_at", "timestamptz", required=True, description="更新时间 when the row was last written"),
    ),
    extra={"lookback_hours": 6},
)


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
    ) -> None:
        self.http = HttpClient(
            base_url,
            source=SOURCE,
            headers={"X-Api-Key": api_key},
            rate_per_second=8,  # the bureau answers 429 above 10 a second
            max_seconds=max_seconds,
        )
        self.page_size = page_size
        self.lookback = timedelta(hours=lookback_hours)
        self.initial = timedelta(days=initial_days)

    def datasets(self) -> dict[str, Dataset]:
        return {"stations": STATIONS, "observations": OBSERVATIONS}

    def check(self) -> CheckResult:
        try:
            body = self.http.get("/api/v1/stations").json()
        except SourceRejected as exc:
            hint = " (API key rejected)" if exc.status == 401 else ""
            return CheckResult(SOURCE, False, f"{exc}{hint}")
        except SourceUnavailable as exc:
            return CheckResult(SOURCE, False, str(exc))
        count = len(body.get("stations", []))
        return CheckResult(SOURCE, True, f"reachable, {count} stations", {"stations": count})

    def read(self, dataset: str, cursor: str | None, until: datetime) -> Iterator[Page]:
        if dataset == "stations":
            yield self._page("/api/v1/stations", {}, "stations", cursor=None)
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
                if not token:
                    page.cursor = window_end.isoformat()
                    yield page
                    break
                yield page
                params = {**params, "page_token": token}
            start = window_end

    def _page(self, path: str, params: dict[str, Any], key: str, cursor: str | None) -> Page:
        response = self.http.get(path, params=params)
        try:
            payload = response.json()
            records = payload[key]
        except (ValueError, KeyError) as exc:
            raise SourceRejected(
                f"weather: {path} answered a body without {key!r}: {exc}", response.status_code
            ) from None
        locator = f"GET {path}?" + "&".join(f"{k}={v}" for k, v in params.items())
        return Page(response.content, "application/json", records, locator, cursor)

    def normalise(self, dataset: str, record: dict[str, Any]) -> dict[str, Any]:
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


def create(ctx: SourceContext) -> WeatherSource:
    return WeatherSource(
        ctx.url,
        ctx.credential("api_key"),
        page_size=int(ctx.options.get("page_size", 1000)),
        lookback_hours=int(ctx.params.get("weather_lookback_hours", 6)),
        initial_days=int(ctx.params.get("weather_initial_days", 3)),
        max_seconds=float(ctx.options.get("max_seconds", 120)),
    )
