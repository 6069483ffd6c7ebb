"""A client of the weather stand-in's CAP admin endpoints, for benchmarks and tests.

>>> publish("http://127.0.0.1:8001", signal="暴雨", colour="红色")  # doctest: +SKIP
{'identifier': '21038141600000_20261128103000_0', 'sent': '2026-11-28T10:30:00+08:00', ...}

Plain httpx, no proxies from the environment (the sandbox is on loopback). Pass
``client`` to reuse one connection for many publishes (its ``base_url`` is then
ignored in favour of ``base_url`` here). See :mod:`standins.weather.cap_publish`
for what the stand-in accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from standins.weather.cap_publish import PUBLISH_PATH, PUBLISHED_PATH

DEFAULT_TIMEOUT = 10.0


class AdminRequestFailed(RuntimeError):
    """The stand-in refused an admin request; ``status`` and its ``error`` message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def publish(
    base_url: str,
    *,
    signal: str,
    colour: str,
    msg_type: str = "Alert",
    references: str | Sequence[str] | None = None,
    towns: Sequence[str] | None = None,
    headline: str | None = None,
    description: str | None = None,
    expires_minutes: int | None = None,
    client: httpx.Client | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, str]:
    """Publish one warning now; returns ``{"identifier", "sent", "updated"}``.

    Raises :class:`AdminRequestFailed` when the stand-in answers other than 201
    (400 with its reason for a bad signal, colour, town or reference).
    """
    fields: dict[str, Any] = {"signal": signal, "colour": colour, "msg_type": msg_type}
    optional: dict[str, Any] = {
        "references": references if references is None or isinstance(references, str) else list(references),
        "towns": None if towns is None else list(towns),
        "headline": headline,
        "description": description,
        "expires_minutes": expires_minutes,
    }
    fields |= {k: v for k, v in optional.items() if v is not None}
    reply = _request("POST", base_url, PUBLISH_PATH, client, timeout, json=fields)
    if reply.status_code != 201:
        raise AdminRequestFailed(reply.status_code, _error(reply))
    answer: dict[str, str] = reply.json()
    return answer


def published(
    base_url: str, *, client: httpx.Client | None = None, timeout: float = DEFAULT_TIMEOUT
) -> list[dict[str, Any]]:
    """What was published through :func:`publish` (identifier, msg_type, signal, colour, sent, references)."""
    reply = _request("GET", base_url, PUBLISHED_PATH, client, timeout)
    if reply.status_code != 200:
        raise AdminRequestFailed(reply.status_code, _error(reply))
    rows: list[dict[str, Any]] = reply.json()["published"]
    return rows


def _request(
    method: str, base_url: str, path: str, client: httpx.Client | None, timeout: float, **kwargs: Any
) -> httpx.Response:
    url = base_url.rstrip("/") + path
    if client is not None:
        return client.request(method, url, timeout=timeout, **kwargs)
    with httpx.Client(timeout=timeout, trust_env=False) as own:
        return own.request(method, url, **kwargs)


def _error(reply: httpx.Response) -> str:
    try:
        return str(reply.json()["error"])
    except (ValueError, KeyError, TypeError):
        return reply.text[:500]
