"""OAuth 2.0 client credentials (RFC 6749 §4.4) as the bureau's gateway does it.

``POST /oauth/token`` takes form fields ``grant_type=client_credentials``,
``client_id`` and ``client_secret`` and answers ``{"access_token",
"token_type": "Bearer", "expires_in"}``. Errors follow RFC 6749 §5.2:
``400 unsupported_grant_type`` / ``invalid_request``, ``401 invalid_client``.
A token expires ``token_ttl_seconds`` after issue by the sandbox clock; the
fault ``token_max_uses`` makes it expire early (after that many API calls),
``reject_tokens`` makes every token fail (e.g. a client whose grant was
withdrawn), and ``revoke_all`` drops the issued ones.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs


class TokenError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


@dataclass
class _Token:
    expires_at: datetime
    uses: int = 0


def parse_form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise TokenError(400, "invalid_request", "the body is not UTF-8 form data") from None
    repeated = [k for k, v in fields.items() if len(v) > 1]
    if repeated:
        raise TokenError(400, "invalid_request", f"parameter {repeated[0]} is repeated")
    return {k: v[0] for k, v in fields.items()}


class TokenIssuer:
    def __init__(self, client_id: str, client_secret: str) -> None:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret must not be empty")
        self.client_id = client_id
        self.client_secret = client_secret
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()
        self.issued = 0
        self.rejected = 0

    def issue(self, form: dict[str, str], now: datetime, ttl_seconds: float) -> dict[str, object]:
        if form.get("grant_type") != "client_credentials":
            raise TokenError(400, "unsupported_grant_type", "grant_type must be client_credentials")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if not client_id or not secret:
            raise TokenError(400, "invalid_request", "client_id and client_secret are required form fields")
        same_id = hmac.compare_digest(client_id.encode("utf-8"), self.client_id.encode("utf-8"))
        same_secret = hmac.compare_digest(secret.encode("utf-8"), self.client_secret.encode("utf-8"))
        if not (same_id and same_secret):
            raise TokenError(401, "invalid_client", "client authentication failed")
        ttl = max(1, int(ttl_seconds))
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at > now}
            self._tokens[token] = _Token(now + timedelta(seconds=ttl))
            self.issued += 1
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}

    def check(self, authorization: str | None, now: datetime, max_uses: int, reject: bool) -> None:
        """Raise TokenError(401) unless the header carries a live token; counts the use."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise self._reject("invalid_request", "missing Authorization: Bearer <token>")
        with self._lock:
            found = self._tokens.get(token.strip())
            if found is None:
                raise self._reject("invalid_token", "unknown access token")
            if found.expires_at <= now or (max_uses and found.uses >= max_uses):
                raise self._reject("invalid_token", "the access token expired")
            if reject:
                raise self._reject("invalid_token", "the access token was revoked")
            found.uses += 1

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            return count

    def _reject(self, error: str, description: str) -> TokenError:
        self.rejected += 1
        return TokenError(401, error, description)
