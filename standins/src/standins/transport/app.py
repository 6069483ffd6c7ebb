"""The transport bureau stand-in as a Starlette app (contract: transport.md).

Order of checks on every API call: ``slow_seconds`` delay, ``outage`` and
injected 503/429 (the gateway in front of the service), then, on ``/v2/*``,
the Bearer token (401) and the rate limit (429 with ``Retry-After``).

Lists: ``?limit=<1..500, default 100>&cursor=<opaque>&updated_since=<ISO 8601>``
answer ``{"data": [...], "next_cursor": "..." | null}`` ordered by
(``updated_at``, id). ``updated_since`` is INCLUSIVE (``updated_at >=
updated_since``); a time without an offset is Asia/Shanghai. The cursor is a
keyset position (see :mod:`standins.transport.paging`); ``updated_since`` still
filters when a cursor is given. ``next_cursor`` is null on the last page.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
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
from standins.common.timefmt import CST, iso_cst, parse_iso_local_default
from standins.transport import bridges, carriers, road_events, waybills
from standins.transport.admin import admin_record_routes
from standins.transport.auth import TokenError, TokenIssuer, parse_form
from standins.transport.damage import drift, is_malformed, malform
from standins.transport.model import Feed, Resource, Row, Version
from standins.transport.paging import decode_cursor, encode_cursor
from standins.transport.parties import local_carriers, outside_carriers
from standins.transport.stamps import to_second

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
RATE_LIMIT_PER_SECOND = 20
EVENT_HISTORY_DAYS = 60
WAYBILL_HISTORY_DAYS = 14
RESOURCES: dict[str, Resource] = {
    r.name: r for r in (road_events.RESOURCE, bridges.RESOURCE, carriers.RESOURCE, waybills.RESOURCE)
}


@dataclass
class TransportFaults(FaultSwitches):
    outage: bool = False
    slow_seconds: float = 0.0
    fail_429_rate: float = 0.0
    fail_503_rate: float = 0.0
    # Per record version: a bad lon, a missing id, an impossible date ...
    malformed_rate: float = 0.0
    # Per page: the previous page's last record is served again first.
    duplicate_rate: float = 0.0
    # Schema drift: every resource gains a field; one resource loses a required field.
    new_field: bool = False
    drift_road_events: bool = False
    drift_bridges: bool = False
    drift_hazmat_carriers: bool = False
    drift_hazmat_waybills: bool = False
    # Tokens: lifetime announced as expires_in; expiry after N API calls (0: never); all tokens refused.
    token_ttl_seconds: float = 600.0
    token_max_uses: float = 0.0
    reject_tokens: bool = False

    def drifts(self, resource: str) -> bool:
        return bool(getattr(self, "drift_" + resource.replace("-", "_").replace("/", "_")))


class TransportService:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        seed: int,
        scale: float,
        clock: SandboxClock,
        faults: TransportFaults,
        anchor: datetime | None,
        rate_limit_per_second: int | None,
        history_days: int = 0,
    ) -> None:
        self.tokens = TokenIssuer(client_id, client_secret)
        self.seed = seed
        self.scale = scale
        self.clock = clock
        self.faults = faults
        self._anchor = anchor
        self.event_days = max(EVENT_HISTORY_DAYS, history_days)
        self.waybill_days = max(WAYBILL_HISTORY_DAYS, history_days)
        self._feeds: dict[str, Feed] | None = None
        self.origin: datetime | None = None
        self.dice = FaultDice(seed)
        self.limiter = SlidingWindowLimiter(rate_limit_per_second) if rate_limit_per_second else None
        self.stats = RequestStats()

    def now(self) -> datetime:
        return to_second(self.clock())

    @property
    def feeds(self) -> dict[str, Feed]:
        # Built on first use, so a clock frozen right after create_app() decides where history lies.
        if self._feeds is None:
            anchor = self._anchor or self.clock()
            day = anchor.astimezone(CST).replace(hour=0, minute=0, second=0, microsecond=0)
            self.origin = day - timedelta(days=self.event_days)
            bridge_import = self.origin + timedelta(hours=2)
            carrier_import = self.origin + timedelta(hours=2, minutes=30)
            local = local_carriers(self.seed, self.scale, carrier_import)
            factory = waybills.WaybillFactory(self.seed, self.scale, local, outside_carriers(self.seed))
            self._feeds = {
                "road-events": Feed(
                    road_events.RESOURCE,
                    hourly=partial(road_events.events_in_hour, self.seed, self.scale),
                    hourly_from=self.origin,
                ),
                "bridges": Feed(
                    bridges.RESOURCE, master=bridges.generate_bridges(self.seed, self.scale, bridge_import)
                ),
                "hazmat/carriers": Feed(
                    carriers.RESOURCE, master=carriers.generate_carriers(self.seed, self.scale, carrier_import)
                ),
                "hazmat/waybills": Feed(
                    waybills.RESOURCE, hourly=factory.in_hour, hourly_from=day - timedelta(days=self.waybill_days)
                ),
            }
        return self._feeds

    def feed(self, resource: str) -> Feed:
        if resource not in RESOURCES:
            raise KeyError(f"unknown resource {resource!r} (known: {', '.join(RESOURCES)})")
        return self.feeds[resource]

    # -- changes made by tests and demos ------------------------------------------------------

    def upsert(self, resource: str, records: list[dict[str, Any]], at: datetime | None = None) -> list[str]:
        """Add or change records (fields merged over the current version), stamped ``at`` (default: now)."""
        feed = self.feed(resource)
        stamp = to_second(at) if at else self.now()
        key_name = feed.resource.key
        versions = []
        for record in records:
            key = record.get(key_name)
            if not isinstance(key, str) or not key:
                raise ValueError(f"every record needs a non-empty string {key_name!r}")
            current = feed.current(key, stamp)
            fields = dict(current.fields) if current and not current.deleted else dict.fromkeys(feed.resource.fields)
            fields.update({k: v for k, v in record.items() if k not in ("updated_at", "deleted")})
            versions.append((key, Version(stamp, fields)))
        for key, version in versions:
            feed.add_version(key, version)
        return [key for key, _ in versions]

    def delete(self, resource: str, keys: list[str], at: datetime | None = None) -> list[str]:
        """Withdraw records: each comes back once, as a tombstone stamped ``at`` (default: now)."""
        feed = self.feed(resource)
        stamp = to_second(at) if at else self.now()
        tombstones = []
        for key in keys:
            current = feed.current(key, stamp)
            if current is None or current.deleted:
                raise KeyError(f"{resource} has no live record {key!r} at {iso_cst(stamp)}")
            tombstones.append((key, Version(stamp, dict(current.fields), deleted=True)))
        for key, version in tombstones:
            feed.add_version(key, version)
        return keys

    def record(self, resource: str, key: str) -> dict[str, Any] | None:
        current = self.feed(resource).current(key, self.now())
        return current.render() if current else None

    # -- the API ---------------------------------------------------------------------------------

    async def gateway(self) -> Response | None:
        if self.faults.slow_seconds > 0:
            await asyncio.sleep(self.faults.slow_seconds)
        if self.faults.outage:
            return json_error(503, "service unavailable (outage)")
        if self.dice.roll("503", self.faults.fail_503_rate):
            return json_error(503, "service temporarily unavailable")
        if self.dice.roll("429", self.faults.fail_429_rate):
            return too_many_requests(1)
        return None

    async def token_endpoint(self, request: Request) -> Response:
        refused = await self.gateway()
        if refused is not None:
            return refused
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
                raise TokenError(400, "invalid_request", "send the form as application/x-www-form-urlencoded")
            form = parse_form(await request.body())
            body = self.tokens.issue(form, self.clock(), self.faults.token_ttl_seconds)
        except TokenError as exc:
            return JSONResponse(
                {"error": exc.error, "error_description": exc.description}, status_code=exc.status, headers=no_store
            )
        return JSONResponse(body, headers=no_store)

    async def _authorise(self, request: Request) -> Response | None:
        try:
            self.tokens.check(
                request.headers.get("authorization"),
                self.clock(),
                int(self.faults.token_max_uses),
                self.faults.reject_tokens,
            )
        except TokenError as exc:
            challenge = f'Bearer error="{exc.error}", error_description="{exc.description}"'
            return JSONResponse(
                {"error": exc.error, "error_description": exc.description},
                status_code=401,
                headers={"WWW-Authenticate": challenge},
            )
        if self.limiter is not None:
            retry_after = self.limiter.check()
            if retry_after is not None:
                return too_many_requests(retry_after, f"rate limit: at most {self.limiter.limit} requests per second")
        return None

    def list_endpoint(self, resource: Resource) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await self._list(resource, request)

        return endpoint

    async def _list(self, resource: Resource, request: Request) -> Response:
        refused = await self.gateway() or await self._authorise(request)
        if refused is not None:
            return refused
        try:
            limit, since, position = _list_query(request.query_params)
        except ValueError as exc:
            return json_error(400, str(exc))
        rows = self.feed(resource.name).rows(self.now())
        start = bisect.bisect_left(rows, since, key=lambda row: row[0]) if since else 0
        if position is not None:
            # duplicate_rate: start AT the previous page's last record instead of after it.
            again = self.dice.roll("duplicate", self.faults.duplicate_rate)
            seek = bisect.bisect_left if again else bisect.bisect_right
            start = max(start, seek(rows, position, key=lambda row: (row[0], row[1])))
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        next_cursor = encode_cursor((page[-1][0], page[-1][1])) if more and page else None
        return JSONResponse({"data": [self._render(resource, row) for row in page], "next_cursor": next_cursor})

    def _render(self, resource: Resource, row: Row) -> dict[str, Any]:
        _, key, version = row
        record = version.render()
        stamp = record["updated_at"]
        if is_malformed(self.seed, resource.name, key, stamp, self.faults.malformed_rate):
            record = malform(self.seed, resource.name, key, stamp, record)
        if self.faults.new_field or self.faults.drifts(resource.name):
            record = drift(resource.name, record, rename=self.faults.drifts(resource.name), add=self.faults.new_field)
        return record

    # -- admin -----------------------------------------------------------------------------------

    async def stats_endpoint(self, request: Request) -> Response:
        return JSONResponse(
            {
                "requests": self.stats.as_dict(),
                "tokens_issued": self.tokens.issued,
                "tokens_rejected": self.tokens.rejected,
            }
        )

    async def info_endpoint(self, request: Request) -> Response:
        now = self.now()
        counts = {}
        for name, feed in self.feeds.items():
            rows = feed.rows(now)
            deleted = sum(1 for row in rows if row[2].deleted)
            counts[name] = {"live": len(rows) - deleted, "deleted": deleted}
        return JSONResponse(
            {
                "service": "transport",
                "seed": self.seed,
                "scale": self.scale,
                "now": iso_cst(now),
                "history_from": iso_cst(self.origin) if self.origin else None,
                "records": counts,
            }
        )

    async def revoke_endpoint(self, request: Request) -> Response:
        return JSONResponse({"revoked": self.tokens.revoke_all()})


def _list_query(params: Mapping[str, str]) -> tuple[int, datetime | None, tuple[datetime, str] | None]:
    raw = params.get("limit")
    limit = DEFAULT_LIMIT
    if raw:
        try:
            limit = int(raw)
        except ValueError:
            raise ValueError(f"limit {raw!r} is not an integer") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    since_text = params.get("updated_since")
    since = parse_iso_local_default(since_text, "updated_since") if since_text else None
    cursor = params.get("cursor")
    return limit, since, decode_cursor(cursor) if cursor else None


def create_app(
    *,
    client_id: str,
    client_secret: str,
    seed: int = 42,
    scale: float = 1.0,
    clock: ClockFn | None = None,
    faults: TransportFaults | Mapping[str, Any] | None = None,
    anchor: datetime | None = None,
    rate_limit_per_second: int | None = RATE_LIMIT_PER_SECOND,
    history_days: int = 0,
) -> Starlette:
    """The transport stand-in. ``app.state.service`` is the :class:`TransportService`.

    ``clock`` returns an aware datetime (default: real time); it is wrapped in a
    :class:`SandboxClock` (``app.state.clock``) that ``/__admin/clock`` can move.
    History (60 days of road events, 14 of waybills, the bridge and carrier
    registers imported 60 days back; ``history_days`` lengthens the first two, as
    ``serve --days`` does) lies before ``anchor``, by default the clock at the
    first request; later changes appear as the clock moves on. Rows are computed
    per hour on request, so a long history costs nothing until it is read.
    ``token_ttl_seconds`` (a fault switch, default 600) is the tokens' lifetime.
    """
    switches = faults if isinstance(faults, TransportFaults) else TransportFaults()
    if isinstance(faults, Mapping):
        switches.update(faults)
    sandbox_clock = clock if isinstance(clock, SandboxClock) else SandboxClock(clock)
    service = TransportService(
        client_id=client_id,
        client_secret=client_secret,
        seed=seed,
        scale=scale,
        clock=sandbox_clock,
        faults=switches,
        anchor=anchor,
        rate_limit_per_second=rate_limit_per_second,
        history_days=history_days,
    )
    routes = [
        Route("/oauth/token", service.token_endpoint, methods=["POST"]),
        *(Route(r.path, service.list_endpoint(r), methods=["GET"]) for r in RESOURCES.values()),
        Route(f"{ADMIN_PREFIX}/stats", service.stats_endpoint, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/info", service.info_endpoint, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/tokens/revoke", service.revoke_endpoint, methods=["POST"]),
        *admin_record_routes(service),
        *admin_routes("transport", sandbox_clock, switches),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(StatsMiddleware, stats=service.stats)],
        exception_handlers=JSON_EXCEPTION_HANDLERS,
    )
    app.state.service = service
    app.state.clock = sandbox_clock
    return app
