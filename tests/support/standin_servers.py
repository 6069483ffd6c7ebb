"""Stand-ins on loopback for the test's duration, and the platform pointed at them.

``standin_servers.start(app, source="weather")`` runs a stand-in app on a free
port and sets ``EDP_SOURCE_WEATHER_URL`` for this test; every server started
and every client made is stopped or closed when the test ends. ``anshan_city``
is the 鞍山市 exchange stand-in the platform's sync sends to, with the
platform's own generated credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standins.anshan.app import create_app as create_anshan_app
from standins.server import RunningServer, run_in_thread

from edp.secrets import generated_secret
from edp.settings import Settings
from tests.support.sources import source_url_variable


class StandinServers:
    """The stand-in servers and clients of one test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self._servers: list[RunningServer] = []
        self._clients: list[httpx.Client] = []

    def start(self, app: Any, *, source: str | None = None, env: str | None = None) -> RunningServer:
        """Serve ``app``; point the platform's ``source`` (or the variable ``env``) at it."""
        server = run_in_thread(app)
        self._servers.append(server)
        if source is not None:
            self._monkeypatch.setenv(source_url_variable(source), server.url)
        if env is not None:
            self._monkeypatch.setenv(env, server.url)
        return server

    def client(self, server: RunningServer, timeout: float = 30) -> httpx.Client:
        """A plain client of ``server`` (no proxy from the environment)."""
        client = httpx.Client(base_url=server.url, timeout=timeout, trust_env=False)
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        for server in reversed(self._servers):
            server.stop()


@pytest.fixture
def standin_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandinServers]:
    servers = StandinServers(monkeypatch)
    yield servers
    servers.close()


@pytest.fixture
def anshan_city(
    settings: Settings, standin_servers: StandinServers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., RunningServer]:
    """``anshan_city(timeout_seconds=2, **create_app kwargs)``: the exchange stand-in, the sync pointed at it."""

    def start(timeout_seconds: float = 2, **kwargs: Any) -> RunningServer:
        kwargs.setdefault("app_key", generated_secret(settings, "anshan_app_key"))
        kwargs.setdefault("app_secret", generated_secret(settings, "anshan_app_secret"))
        kwargs.setdefault("state_dir", tmp_path / "city")
        kwargs.setdefault("seed", 3)
        monkeypatch.setenv("EDP_ANSHAN_TIMEOUT_SECONDS", str(timeout_seconds))
        return standin_servers.start(create_anshan_app(**kwargs), env="EDP_ANSHAN_URL")

    return start


def city_records(city_url: str, dataset: str = "hazard_events") -> dict[str, dict[str, Any]]:
    """What the exchange stand-in keeps of ``dataset``, by record id."""
    body = httpx.get(f"{city_url}/__admin/records", params={"dataset": dataset}, trust_env=False).json()
    return {r["record_id"]: r for r in body["records"]}
