"""Client of the 鞍山市 exchange API (anshan.md): signing, retries, lookups."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from edp.errors import ExchangeFailed
from edp.exchange.receipts import MAX_RECEIPT_BYTES, ReceiptInvalid
from edp.sandbox.link import SANDBOX, sandbox_url
from edp.secrets import resolve_secret
from edp.settings import Settings

log = logging.getLogger(__name__)

BATCHES_PATH = "/api/exchange/v1/batches"
# Any answer of the city is read at most this far (receipts have their own, smaller bound).
MAX_REPLY_BYTES = 16 * 1024 * 1024


def canonical_json(value: Any) -> bytes:
    """The contract's canonical JSON: sorted keys, no whitespace, UTF-8, not ASCII-escaped."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


class ExchangeError(ExchangeFailed):
    """A non-retryable answer from the city (4xx other than 404/409/429)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ExchangeConflict(ExchangeFailed):
    """422: the same Idempotency-Key with another body, a bug on our side."""


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class ReplyLost(ExchangeFailed):
    """The request may have been stored, but no answer came back in time."""


class ReplyTooLarge(ExchangeFailed):
    """The city's answer is longer than any answer of the contract can be; it was not read to the end."""


@dataclass(frozen=True)
class ExchangeConfig:
    url: str
    app_key: str
    app_secret: str
    timeout: float = 10.0
    max_attempts: int = 8


def exchange_config(settings: Settings) -> ExchangeConfig:
    key = settings.anshan_app_key.get_secret_value() if settings.anshan_app_key else None
    secret = settings.anshan_app_secret.get_secret_value() if settings.anshan_app_secret else None
    return ExchangeConfig(
        url=sandbox_url(settings, "anshan") if settings.anshan_url == SANDBOX else settings.anshan_url,
        app_key=resolve_secret(settings, "anshan_app_key", key),
        app_secret=resolve_secret(settings, "anshan_app_secret", secret),
        timeout=settings.anshan_timeout_seconds,
    )


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _Retry) and exc.retry_after is not None:
        return min(exc.retry_after, 30.0)
    return float(wait_exponential_jitter(initial=0.5, max=15)(state))


class ExchangeClient:
    def __init__(self, config: ExchangeConfig) -> None:
        self.config = config
        self.http = httpx.Client(base_url=config.url, timeout=config.timeout)
        self.requests = 0
        self.retries = 0

    def close(self) -> None:
        self.http.close()

    def _headers(self, method: str, path: str, body: bytes) -> dict[str, str]:
        ts = str(int(time.time()))
        nonce = secrets.token_hex(16)
        return {
            "X-App-Key": self.config.app_key,
            "X-Timestamp": ts,
            "X-Nonce": nonce,
            "X-Signature": sign(self.config.app_secret, method, path, ts, nonce, body),
            "Content-Type": "application/json; charset=utf-8",
        }

    def _once(
        self,
        method: str,
        path: str,
        body: bytes,
        extra: dict[str, str],
        params: dict[str, str] | None,
        max_bytes: int,
    ) -> httpx.Response:
        self.requests += 1
        headers = {**self._headers(method, path, body), **extra}
        request = self.http.build_request(method, path, content=body or None, headers=headers, params=params)
        try:
            resp = self.http.send(request, stream=True)
            try:
                content = _read_bounded(resp, max_bytes, f"{method} {path}")
            finally:
                resp.close()
        except httpx.TimeoutException as exc:
            raise ReplyLost(f"{method} {path}: no reply within {self.config.timeout:.0f} s") from exc
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Retry(f"{type(exc).__name__}: {exc}") from exc
        # The body is read (and bounded) here; callers get an ordinary, fully read response.
        resp = httpx.Response(resp.status_code, headers=resp.headers, content=content, request=request)
        if resp.status_code in (429, 503, 502, 504):
            after = resp.headers.get("Retry-After")
            raise _Retry(f"HTTP {resp.status_code}", float(after) if after else None)
        if resp.status_code == 409:
            raise _Retry("HTTP 409: the city is still processing this batch", 1.0)
        return resp

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        max_bytes: int = MAX_REPLY_BYTES,
    ) -> httpx.Response:
        def before_sleep(state: RetryCallState) -> None:
            self.retries += 1
            log.warning(
                "anshan: %s %s retry %d: %s",
                method,
                path,
                state.attempt_number,
                state.outcome.exception() if state.outcome else "",
            )

        retrying = Retrying(
            retry=retry_if_exception_type(_Retry),
            stop=stop_after_attempt(self.config.max_attempts),
            wait=_wait,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, method, path, body, headers or {}, params, max_bytes)
        except _Retry as exc:
            raise ExchangeError(f"anshan: {method} {path} failed after retries: {exc}", 503) from None

    def push(self, batch_id: str, body: bytes) -> bytes:
        """The raw body of the city's 200 to the batch: a receipt only once ``receipts.verify`` says so."""
        try:
            resp = self.request("POST", BATCHES_PATH, body, {"Idempotency-Key": batch_id}, max_bytes=MAX_RECEIPT_BYTES)
        except ReplyTooLarge as exc:
            raise ReceiptInvalid(str(exc)) from None
        if resp.status_code == 422:
            raise ExchangeConflict(
                f"anshan: batch {batch_id} was stored earlier with another body (HTTP 422): "
                "batch bodies must never change once packed; stopping"
            )
        if resp.status_code != 200:
            raise ExchangeError(
                f"anshan: batch {batch_id}: HTTP {resp.status_code}: {resp.text[:300]}", resp.status_code
            )
        return resp.content

    def lookup(self, batch_id: str) -> bytes | None:
        """The raw body of the city's 200 to a lookup, or ``None`` when the city says it never stored the batch."""
        try:
            resp = self.request("GET", f"{BATCHES_PATH}/{batch_id}", max_bytes=MAX_RECEIPT_BYTES)
        except ReplyTooLarge as exc:
            raise ReceiptInvalid(str(exc)) from None
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise ExchangeError(
                f"anshan: lookup {batch_id}: HTTP {resp.status_code}: {resp.text[:300]}", resp.status_code
            )
        return resp.content

    def reconciliation(self, dataset: str, date: str) -> dict[str, Any]:
        resp = self.request("GET", "/api/exchange/v1/reconciliation", params={"dataset": dataset, "date": date})
        if resp.status_code != 200:
            raise ExchangeError(f"anshan: reconciliation: HTTP {resp.status_code}: {resp.text[:300]}", resp.status_code)
        return dict(resp.json())

    def feedback(self, since: str) -> list[dict[str, Any]]:
        resp = self.request("GET", "/api/exchange/v1/feedback", params={"since": since})
        if resp.status_code != 200:
            raise ExchangeError(f"anshan: feedback: HTTP {resp.status_code}: {resp.text[:300]}", resp.status_code)
        return list(resp.json())


def _read_bounded(resp: httpx.Response, max_bytes: int, what: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ReplyTooLarge(f"anshan: {what}: HTTP {resp.status_code} reply longer than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
