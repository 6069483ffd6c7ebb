"""HTTP for connectors: retries with backoff honouring Retry-After, a rate cap.

Every department API is flaky on purpose (429, 503, slow answers); a caller
gets either a good response or a ``SourceUnavailable`` after a bounded time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from connectors.limits import Limits
from edp.errors import DataRejected, EdpError, SourceUnavailable

log = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})


class SourceRejected(EdpError):
    """The source answered with a non-transient error (bad credentials, bad request)."""

    # The answer breaks the contract (a 404 for a documented path, a page that is not the promised JSON),
    # as `edp sources check` reports it (wrong_contract): data rejected, not a source that is down.
    exit_code = DataRejected.exit_code

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class CredentialsRefused(SourceRejected):
    """The source refused our credentials (an API key, client secret, database account): retrying will not help."""

    exit_code = 2  # as ConfigError: the credential named in sources.yml must change (docs/operations.md, exit codes)


class _Transient(Exception):
    def __init__(self, response: httpx.Response | None, reason: str) -> None:
        super().__init__(reason)
        self.response = response
        self.reason = reason


# Request extension naming the most bytes a response body may have (see limit_body).
MAX_BODY = "edp.max_body_bytes"


class BodyTooLarge(DataRejected):
    """A response body over the limit its request set; it was not read further."""


class _CappedStream(httpx.SyncByteStream):
    def __init__(self, inner: Any, limit: int, url: str) -> None:
        self.inner = inner
        self.limit = limit
        self.url = url

    def __iter__(self) -> Iterator[bytes]:
        size = 0
        for chunk in self.inner:
            size += len(chunk)
            if size > self.limit:
                raise BodyTooLarge(f"{self.url}: body over the {self.limit}-byte limit; refused while reading")
            yield chunk

    def close(self) -> None:
        self.inner.close()


def limit_body(response: httpx.Response) -> None:
    """httpx response hook: cap the body at the request's ``MAX_BODY`` before it is read.

    Runs after the headers arrive and before httpx reads the body, so an
    oversized answer is refused on its Content-Length, or else while streaming.
    """
    limit = response.request.extensions.get(MAX_BODY)
    if limit is None:
        return
    url = str(response.request.url)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"{url}: Content-Length {declared} is over the {limit}-byte limit; not read")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise BodyTooLarge(f"{url}: answered Content-Encoding {encoding!r} to Accept-Encoding: identity; not read")
    response.stream = _CappedStream(response.stream, limit, url)


def install_body_limit(client: httpx.Client) -> None:
    """Add :func:`limit_body` to a client's response hooks (once); every ``HttpClient`` has it."""
    hooks = client.event_hooks
    if limit_body not in hooks["response"]:
        client.event_hooks = {**hooks, "response": [*hooks["response"], limit_body]}


class RateLimiter:
    """At most ``per_second`` requests a second from this client."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            time.sleep(delay)


def _retry_after(response: httpx.Response | None) -> float | None:
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _WaitRetryAfter:
    """Wait what the server asked for, else exponential backoff with jitter."""

    def __init__(self, initial: float, maximum: float) -> None:
        self.backoff = wait_exponential_jitter(initial=initial, max=maximum)
        self.maximum = maximum

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = _retry_after(exc.response) if isinstance(exc, _Transient) else None
        if asked is not None:
            return min(asked, self.maximum)
        return float(self.backoff(state))


class HttpClient:
    """A small wrapper over ``httpx.Client`` used by every HTTP connector."""

    def __init__(
        self,
        base_url: str,
        *,
        source: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        max_attempts: int = 8,
        max_seconds: float = 120.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 20.0,
        rate_per_second: float = 0.0,
        max_body_bytes: int | None = Limits.max_body_bytes,
    ) -> None:
        self.source = source
        # Every response body is capped (sources.yml ``limits.max_body_bytes``, else its default; None: no cap);
        # a request may set its own with the MAX_BODY extension.
        self.max_body_bytes = max_body_bytes
        # Identity only: the size of a compressed body after decompression could not be bounded (limit_body).
        sent = {"Accept-Encoding": "identity", **dict(headers or {})}
        self.client = httpx.Client(base_url=base_url, headers=sent, timeout=timeout)
        install_body_limit(self.client)
        self.max_attempts = max_attempts
        self.max_seconds = max_seconds
        self.wait = _WaitRetryAfter(backoff_initial, backoff_max)
        self.limiter = RateLimiter(rate_per_second)
        self.retries = 0

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _once(self, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        if self.max_body_bytes is not None:
            kwargs["extensions"] = {MAX_BODY: self.max_body_bytes, **(kwargs.get("extensions") or {})}
        self.limiter.wait()
        try:
            response = self.client.request(method, url, **kwargs)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Transient(None, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in TRANSIENT_STATUS:
            raise _Transient(response, f"HTTP {response.status_code}")
        return response

    def _count_retry(self, state: RetryCallState) -> None:
        self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.warning("%s: retry %d after %s", self.source, state.attempt_number, exc)

    def request(self, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_seconds),
            wait=self.wait,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            response = retrying(self._once, method, url, **kwargs)
        except _Transient as exc:
            if self.max_attempts == 1:  # a check's single try (edp sources check): nothing was retried
                raise SourceUnavailable(f"{self.source}: {method} {url}: {exc.reason} (one attempt)") from None
            raise SourceUnavailable(
                f"{self.source}: {method} {url} still failing after retries "
                f"(limit {self.max_attempts} attempts / {self.max_seconds:.0f} s): {exc.reason}"
            ) from None
        if response.status_code >= 400:
            raise SourceRejected(
                f"{self.source}: {method} {url} answered HTTP {response.status_code}: {response.text[:300]}",
                response.status_code,
            )
        return response

    def get(self, url: str | httpx.URL, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)
