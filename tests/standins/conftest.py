"""Fixtures for the stand-in tests: a pinned clock, weather and Anshan servers on free ports, a signing client."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standins.anshan import create_app as create_anshan_app
from standins.anshan.auth import signed_headers
from standins.common.timefmt import CST
from standins.weather import create_app as create_weather_app

from tests.support.standin_servers import StandinServers

# Test-only credentials.
WEATHER_KEY = "test-weather-key"
ANSHAN_KEY = "test-app-key"
ANSHAN_SECRET = "test-app-secret"
NOW = datetime(2026, 11, 28, 10, 30, tzinfo=CST)
BATCHES_PATH = "/api/exchange/v1/batches"


class ManualClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def weather(standin_servers: StandinServers, clock: ManualClock) -> Callable[..., httpx.Client]:
    """``weather(**create_app kwargs)`` -> client on a fresh server (clock pinned unless given)."""

    def start(**kwargs: Any) -> httpx.Client:
        kwargs.setdefault("api_key", WEATHER_KEY)
        kwargs.setdefault("clock", clock)
        return standin_servers.client(standin_servers.start(create_weather_app(**kwargs)))

    return start


class AnshanClient:
    """Signs every request like a county client would."""

    def __init__(self, url: str, clock: Callable[[], datetime], timeout: float = 30) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout, trust_env=False)
        self.clock = clock
        self._nonce = 0

    def headers(self, method: str, path: str, body: bytes = b"", **overrides: Any) -> dict[str, str]:
        self._nonce += 1
        options = {"timestamp": int(self.clock().timestamp()), "nonce": f"nonce-{id(self)}-{self._nonce}"}
        options.update(overrides)
        secret = options.pop("secret", ANSHAN_SECRET)
        app_key = options.pop("app_key", ANSHAN_KEY)
        return signed_headers(app_key, secret, method, path, body, **options)

    def post_batch(
        self, batch: dict[str, Any] | bytes, idempotency_key: str | None = None, **overrides: Any
    ) -> httpx.Response:
        body = batch if isinstance(batch, bytes) else json.dumps(batch, ensure_ascii=False).encode("utf-8")
        headers = self.headers("POST", BATCHES_PATH, body, **overrides)
        key = (
            idempotency_key
            if idempotency_key is not None
            else (batch.get("batch_id") if isinstance(batch, dict) else None)
        )
        if key:
            headers["Idempotency-Key"] = key
        headers["Content-Type"] = "application/json"
        return self.http.post(BATCHES_PATH, content=body, headers=headers)

    def get(self, path: str, params: dict[str, str] | None = None, **overrides: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.headers("GET", path, **overrides))


@pytest.fixture
def anshan(standin_servers: StandinServers, clock: ManualClock, tmp_path: Path) -> Callable[..., AnshanClient]:
    """``anshan(**create_app kwargs)`` -> signing client on a fresh server (state in tmp_path)."""

    def start(**kwargs: Any) -> AnshanClient:
        kwargs.setdefault("app_key", ANSHAN_KEY)
        kwargs.setdefault("app_secret", ANSHAN_SECRET)
        kwargs.setdefault("state_dir", tmp_path / "anshan")
        kwargs.setdefault("clock", clock)
        server = standin_servers.start(create_anshan_app(**kwargs))
        client = AnshanClient(server.url, kwargs["clock"])
        client.server = server  # type: ignore[attr-defined]
        return client

    return start
