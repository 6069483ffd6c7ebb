"""The weather bureau stand-in as a Starlette app.

Order of checks on ``/api/v1/*``: ``slow_seconds`` delay, ``outage`` and injected
503/429 (as a gateway in front of the service would), API key (401), then the
rate limit (429, counting authenticated requests only), then the request itself.

Observation windows are half-open, ``start <= obs_time < end``, so consecutive
windows never return a row twice.

The CAP warning feed (``/cap/feed``, ``/cap/messages/{id}.xml``) is in
:mod:`standins.weather.cap_feed`, behind the same guard.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from standins.common.clock import ClockFn, SandboxClock
from standins.common.faults import FaultDice, FaultSwitches
from standins.common.http import (
    ADMIN_PREFIX,
    JSON_EXCEPTION_HANDLERS,
    RequestStats,
    StatsMiddleware,
    admin_routes,
    json_error,
    too_many_requests,
)
from standins.common.ratelimit import SlidingWindowLimiter
from standins.common.storm import check_mode
from standins.common.timefmt import iso_cst, parse_iso_with_offset
from standins.weather.cap_feed import CapFeed, CapStart, cap_routes
from standins.weather.malformed import is_malformed, malform
from standins.weather.observations import ObservationSource
from standins.weather.paging import decode_token, encode_token
from standins.weather.stations import generate_stations
from standins.weather.storm import Storm, default_storm_start, make_storm

MAX_WINDOW = timedelta(days=7)
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 5000
RATE_LIMIT_PER_SECOND = 10


@dataclass
class WeatherFaults(FaultSwitches):
    fail_503_rate: float = 0.0
    fail_429_rate: float = 0.0
    slow_seconds: float = 0.0
    outage: bool = False
    malformed_rate: float = 0.0
    # CAP feed: add a not-well-formed and an XSD-invalid message / one with external entities / one over 1 MB.
    cap_malformed: bool = False
    cap_xxe: bool = False
    cap_oversize: bool = False


class WeatherService:
    def __init__(
        self,
        *,
        api_key: str,
        seed: int,
        scale: float,
        clock: SandboxClock,
        faults: WeatherFaults,
        storm_start: datetime | None,
        rate_limit_per_second: int | None,
        cap_start: CapStart = None,
        storm: str = "season",
    ) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        self.api_key = api_key
        self.seed = seed
        self.scale = scale
        self.clock = clock
        self.faults = faults
        self.stations = generate_stations(seed, scale)
        self._storm_start = storm_start
        self._storm = check_mode(storm)
        self._source: ObservationSource | None = None
        self.dice = FaultDice(seed)
        self.limiter = SlidingWindowLimiter(rate_limit_per_second) if rate_limit_per_second else None
        self.stats = RequestStats()
        self.cap = CapFeed(
            seed=seed,
            scale=scale,
            clock=clock,
            faults=faults,
            start=cap_start,
            storm_start=lambda: self.storm.start,
            storm=self._storm,
        )

    @property
    def source(self) -> ObservationSource:
        # Built on first use, so a clock frozen right after create_app() still
        # decides where the storm lies; fixed from then on so history stays put.
        if self._source is None:
            start = self._storm_start or default_storm_start(self.clock())
            self._source = ObservationSource(
                self.seed, self.stations, make_storm(self.seed, self.stations, start, self._storm)
            )
        return self._source

    @property
    def storm(self) -> Storm:
        return self.source.storm

    async def guard(self, request: Request) -> Response | None:
        """The answer that pre-empts the endpoint (fault, auth, rate limit), if any."""
        if self.faults.slow_seconds > 0:
            await asyncio.sleep(self.faults.slow_seconds)
        if self.faults.outage:
            return json_error(503, "service unavailable (outage)")
        if self.dice.roll("503", self.faults.fail_503_rate):
            return json_error(503, "service temporarily unavailable")
        if self.dice.roll("429", self.faults.fail_429_rate):
            return too_many_requests(1)
        supplied = request.headers.get("x-api-key")
        if not supplied:
            return json_error(401, "missing X-Api-Key header")
        if not hmac.compare_digest(supplied.encode("utf-8"), self.api_key.encode("utf-8")):
            return json_error(401, "invalid X-Api-Key")
        if self.limiter is not None:
            retry_after = self.limiter.check()
            if retry_after is not None:
                return too_many_requests(retry_after, "rate limit: at most 10 requests per second")
        return None

    async def stations_endpoint(self, request: Request) -> Response:
        refused = await self.guard(request)
        if refused is not None:
            return refused
        return JSONResponse({"stations": [s.public() for s in self.stations]})

    async def observations_endpoint(self, request: Request) -> Response:
        refused = await self.guard(request)
        if refused is not None:
            return refused
        try:
            start, end, page_size, after = _observation_query(request.query_params)
        except ValueError as exc:
            return json_error(400, str(exc))
        now = self.clock()
        found = list(itertools.islice(self.source.scan(start, end, now, after), page_size + 1))
        page = found[:page_size]
        rate = self.faults.malformed_rate
        rows = [
            malform(self.seed, obs.key, obs.row) if is_malformed(self.seed, obs.key, rate) else obs.row for obs in page
        ]
        token = encode_token(page[-1].key) if len(found) > page_size else None
        return JSONResponse({"observations": rows, "next_page_token": token})

    async def stats_endpoint(self, request: Request) -> Response:
        return JSONResponse({"requests": self.stats.as_dict()})

    async def info_endpoint(self, request: Request) -> Response:
        return JSONResponse(
            {
                "service": "weather",
                "seed": self.seed,
                "scale": self.scale,
                "now": iso_cst(self.clock()),
                "stations": len(self.stations),
                "active_stations": len(self.source.active),
                "storm": {
                    "start": iso_cst(self.storm.start),
                    "end": iso_cst(self.storm.end),
                    "center_lon": self.storm.center_lon,
                    "center_lat": self.storm.center_lat,
                    "kind": self.storm.episode.kind,
                    "mode": self._storm,
                },
                "cap": self.cap.info(),
            }
        )


def _observation_query(params: Mapping[str, str]) -> tuple[datetime, datetime, int, Any]:
    for name in ("start", "end"):
        if not params.get(name):
            raise ValueError(f"query parameter {name} is required (ISO 8601 with offset)")
    start = parse_iso_with_offset(params["start"], "start")
    end = parse_iso_with_offset(params["end"], "end")
    if end <= start:
        raise ValueError("end must be after start")
    if end - start > MAX_WINDOW:
        raise ValueError("window from start to end must be at most 7 days")
    raw_size = params.get("page_size")
    if raw_size is None or raw_size == "":
        page_size = DEFAULT_PAGE_SIZE
    else:
        try:
            page_size = int(raw_size)
        except ValueError:
            raise ValueError(f"page_size {raw_size!r} is not an integer") from None
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    token = params.get("page_token")
    after = decode_token(token) if token else None
    return start, end, page_size, after


def create_app(
    *,
    api_key: str,
    seed: int = 42,
    scale: float = 1.0,
    clock: ClockFn | None = None,
    faults: WeatherFaults | Mapping[str, Any] | None = None,
    storm_start: datetime | None = None,
    rate_limit_per_second: int | None = RATE_LIMIT_PER_SECOND,
    cap_start: CapStart = None,
    storm: str = "season",
) -> Starlette:
    """The weather stand-in. ``app.state.service`` is the :class:`WeatherService`.

    ``clock`` returns an aware datetime (default: real time); it is wrapped in a
    :class:`SandboxClock` (``app.state.clock``) that ``/__admin/clock`` can move.
    ``rate_limit_per_second=None`` switches the contract's limit off (bulk tests).
    The rainstorm episode is placed relative to the clock at the first
    observation request unless ``storm_start`` is given (see :mod:`standins.weather.storm`).
    The CAP warning episode starts at the next whole hour after the clock at the
    first CAP request, unless ``cap_start`` is a datetime or ``"storm"`` (one hour
    before the storm; see :mod:`standins.weather.cap_feed`). ``storm="season"`` gives
    the storm hours (and the CAP episode's rainstorm warnings) the month's weather,
    snow in winter; ``storm="summer"`` forces the summer rainstorm whatever the date.
    """
    switches = faults if isinstance(faults, WeatherFaults) else WeatherFaults()
    if isinstance(faults, Mapping):
        switches.update(faults)
    sandbox_clock = clock if isinstance(clock, SandboxClock) else SandboxClock(clock)
    service = WeatherService(
        api_key=api_key,
        seed=seed,
        scale=scale,
        clock=sandbox_clock,
        faults=switches,
        storm_start=storm_start,
        rate_limit_per_second=rate_limit_per_second,
        cap_start=cap_start,
        storm=storm,
    )
    routes = [
        Route("/api/v1/stations", service.stations_endpoint, methods=["GET"]),
        Route("/api/v1/observations", service.observations_endpoint, methods=["GET"]),
        *cap_routes(service),
        Route(f"{ADMIN_PREFIX}/stats", service.stats_endpoint, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/info", service.info_endpoint, methods=["GET"]),
        *admin_routes("weather", sandbox_clock, switches),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(StatsMiddleware, stats=service.stats)],
        exception_handlers=JSON_EXCEPTION_HANDLERS,
    )
    app.state.service = service
    app.state.clock = sandbox_clock
    return app
