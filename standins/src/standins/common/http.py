"""HTTP helpers shared by the stand-ins: errors, bodies, stats, admin routes."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import timedelta
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from standins.common.clock import SandboxClock
from standins.common.faults import FaultSwitches
from standins.common.timefmt import iso_cst, parse_iso_with_offset

ADMIN_PREFIX = "/__admin"


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _http_exception_as_json(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return json_error(exc.status_code, exc.detail, headers=dict(exc.headers or {}))


# Unknown paths and wrong methods answer JSON like every other error of the APIs.
JSON_EXCEPTION_HANDLERS = {HTTPException: _http_exception_as_json}


def too_many_requests(retry_after: int, message: str = "too many requests") -> JSONResponse:
    return json_error(429, message, headers={"Retry-After": str(max(1, retry_after))})


class BodyTooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """Read at most ``limit`` bytes; raise :class:`BodyTooLarge` beyond that.

    Streams instead of ``await request.body()`` so an oversized upload is refused
    without buffering all of it.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request) -> dict[str, Any]:
    """The admin endpoints' body: a JSON object (``ValueError`` otherwise)."""
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except json.JSONDecodeError as exc:
        raise ValueError(f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


class RequestStats:
    """Counts answered API requests by status code (admin requests excluded)."""

    def __init__(self) -> None:
        self.by_status: Counter[int] = Counter()

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": sum(self.by_status.values()),
            "by_status": {str(code): n for code, n in sorted(self.by_status.items())},
        }


class StatsMiddleware:
    """Pure ASGI middleware, so streaming and client disconnects are counted too."""

    def __init__(self, app: ASGIApp, stats: RequestStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.stats.by_status[message["status"]] += 1
            await send(message)

        await self.app(scope, receive, counting_send)


def admin_routes(service: str, clock: SandboxClock, faults: FaultSwitches) -> list[Route]:
    """``/__admin/{health,clock,faults}``, identical on every stand-in.

    ``POST /__admin/clock`` takes ``{"now": iso}`` (freeze there), ``{"now": null}``
    (back to the real clock) and/or ``{"advance_seconds": n}``.
    """

    async def health(request: Request) -> Response:
        # The pid lets ``edp.sandbox.control`` tell its own server from a recycled pid.
        return JSONResponse({"service": service, "ok": True, "pid": os.getpid()})

    async def get_clock(request: Request) -> Response:
        return JSONResponse({"now": iso_cst(clock()), "frozen": clock.frozen})

    async def set_clock(request: Request) -> Response:
        try:
            _apply_clock_change(clock, await read_json_object(request))
        except ValueError as exc:
            return json_error(400, str(exc))
        return await get_clock(request)

    async def get_faults(request: Request) -> Response:
        return JSONResponse(faults.as_dict())

    async def set_faults(request: Request) -> Response:
        try:
            faults.update(await read_json_object(request))
        except ValueError as exc:
            return json_error(400, str(exc))
        return JSONResponse(faults.as_dict())

    return [
        Route(f"{ADMIN_PREFIX}/health", health, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/clock", get_clock, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/clock", set_clock, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/faults", get_faults, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/faults", set_faults, methods=["POST"]),
    ]


def _apply_clock_change(clock: SandboxClock, body: dict[str, Any]) -> None:
    if "now" in body and body["now"] is None:
        clock.release()
    elif "now" in body:
        if not isinstance(body["now"], str):
            raise ValueError("now must be an ISO 8601 string or null")
        clock.freeze(parse_iso_with_offset(body["now"], "now"))
    if "advance_seconds" in body:
        seconds = body["advance_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError("advance_seconds must be a number")
        clock.advance(timedelta(seconds=seconds))
