"""Request signing of the exchange API, both sides of it.

String to sign (one line each, ``\\n``-separated, no trailing newline)::

    METHOD            upper case, e.g. POST
    PATH              the URL path without the query string, e.g. /api/exchange/v1/batches
    TIMESTAMP         the X-Timestamp header, Unix seconds
    NONCE             the X-Nonce header
    SHA256_HEX(BODY)  lowercase hex; the body is the empty string for GET

``X-Signature`` is the lowercase hex HMAC-SHA256 of that string keyed with the
application secret. PATH is taken as sent on the request line; the stand-in
also accepts the percent-decoded form, which differs only for escaped ids.

Checks run in this order and the 401 names the first that fails: app key,
timestamp (within 300 s of the server clock), signature, nonce (not seen in
the last 10 minutes). The nonce is recorded only after the signature is
verified, so forged requests cannot burn a client's nonces.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

TIMESTAMP_TOLERANCE_SECONDS = 300
NONCE_TTL_SECONDS = 600


class AuthError(Exception):
    """A failed check; the message is safe to return to the client."""


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join((method.upper(), path, timestamp, nonce, body_sha256(body)))


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path, timestamp, nonce, body).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(
    app_key: str,
    app_secret: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four auth headers for one request (``path`` without query string)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    return {
        "X-App-Key": app_key,
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": sign(app_secret, method, path, ts, nonce, body),
    }


class Authenticator:
    def __init__(
        self,
        app_key: str,
        app_secret: str,
        clock: Callable[[], datetime],
        remember_nonce: Callable[[str, float], bool],
    ) -> None:
        """``remember_nonce(nonce, now)`` records it and says whether it was fresh."""
        if not app_key or not app_secret:
            raise ValueError("app_key and app_secret must not be empty")
        self._app_key = app_key
        self._secret = app_secret
        self._clock = clock
        self._remember_nonce = remember_nonce

    def verify(self, method: str, paths: Sequence[str], headers: Mapping[str, str], body: bytes) -> None:
        """Raise :class:`AuthError` unless the request is authentic and fresh."""
        app_key = _header(headers, "X-App-Key")
        if not hmac.compare_digest(app_key.encode("utf-8"), self._app_key.encode("utf-8")):
            raise AuthError("X-App-Key is not a known application key")
        timestamp = _header(headers, "X-Timestamp")
        if not timestamp.isdigit():
            raise AuthError("X-Timestamp must be Unix seconds (an integer)")
        now = self._clock().timestamp()
        skew = abs(now - int(timestamp))
        if skew > TIMESTAMP_TOLERANCE_SECONDS:
            raise AuthError(
                f"X-Timestamp is {skew:.0f} s from the server clock (at most {TIMESTAMP_TOLERANCE_SECONDS} s)"
            )
        nonce = _header(headers, "X-Nonce")
        signature = _header(headers, "X-Signature")
        expected = [sign(self._secret, method, path, timestamp, nonce, body) for path in dict.fromkeys(paths)]
        if not any(hmac.compare_digest(signature.encode("utf-8"), e.encode("utf-8")) for e in expected):
            raise AuthError(
                "X-Signature does not match (HMAC-SHA256 of METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256(BODY))"
            )
        if not self._remember_nonce(nonce, now):
            raise AuthError("X-Nonce was already used within the last 10 minutes")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise AuthError(f"missing {name} header")
    return value
