"""Every HttpClient response is capped: the source's ``max_body_bytes`` by default, a request's own override."""

from __future__ import annotations

import httpx
import pytest

from connectors.http import MAX_BODY, BodyTooLarge, HttpClient, install_body_limit
from connectors.limits import Limits


def _client(limit: int | None, body: bytes, seen: list[httpx.Request]) -> HttpClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body)

    http = HttpClient("http://bureau.test", source="probe", max_body_bytes=limit)
    headers = http.client.headers
    http.client.close()
    http.client = httpx.Client(base_url="http://bureau.test", headers=headers, transport=httpx.MockTransport(answer))
    install_body_limit(http.client)
    return http


def test_the_default_cap_comes_from_the_limits_and_a_request_may_override_it() -> None:
    seen: list[httpx.Request] = []
    with _client(Limits(max_body_bytes=100).max_body_bytes, b"x" * 101, seen) as http:
        with pytest.raises(BodyTooLarge, match=r"http://bureau.test/page: Content-Length 101 is over the 100-byte"):
            http.get("/page")
        assert http.get("/page", extensions={MAX_BODY: 200}).content == b"x" * 101
    assert all(r.headers["accept-encoding"] == "identity" for r in seen)


def test_a_client_built_without_limits_still_has_the_default_cap() -> None:
    assert HttpClient("http://bureau.test", source="probe").max_body_bytes == Limits().max_body_bytes
