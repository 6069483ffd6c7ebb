"""OAuth 2.0 client credentials for the transport bureau (transport.md, RFC 6749 §4.4).

The token comes from ``POST /oauth/token`` (form fields ``grant_type``,
``client_id``, ``client_secret``) and is kept until shortly before its
``expires_in`` runs out. A call answered ``401`` (the token expired early or
was revoked) gets a new token and is repeated once; a second ``401`` is a
:class:`SourceRejected` saying so. 429/503 and network errors are retried by
:class:`connectors.http.HttpClient`, for the token request too. Neither the
secret nor a token is ever put in a message or a log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from connectors.http import CredentialsRefused, HttpClient, SourceRejected

TOKEN_PATH = "/oauth/token"
# The contract's lifetime, assumed when a token answer omits expires_in.
DEFAULT_EXPIRES_IN = 600.0


def _oauth_error(response_text: str) -> str:
    """``invalid_client: client authentication failed`` from an RFC 6749 error body, if it is one."""
    try:
        body = json.loads(response_text)
    except ValueError:
        return ""
    if not isinstance(body, dict) or "error" not in body:
        return ""
    description = body.get("error_description")
    return f"{body['error']}: {description}" if description else str(body["error"])


class ClientCredentials:
    def __init__(
        self,
        http: HttpClient,
        client_id: str,
        client_secret: str,
        *,
        margin_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError(f"{http.source}: client_id and client_secret must be configured")
        self.http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self.margin_seconds = margin_seconds
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self.tokens_fetched = 0

    def token(self) -> str:
        if self._token is None or self._clock() >= self._renew_at:
            self._fetch()
        assert self._token is not None
        return self._token

    def invalidate(self) -> None:
        self._token = None

    def _fetch(self) -> None:
        form = {"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret}
        try:
            response = self.http.request("POST", TOKEN_PATH, data=form)
        except SourceRejected as exc:
            # RFC 6749 §5.2: invalid_client is 401 (or 400); another status is not about the credentials.
            refused = CredentialsRefused if exc.status in (400, 401, 403) else SourceRejected
            raise refused(
                f"{self.http.source}: the token endpoint refused our client credentials "
                f"(HTTP {exc.status}{self._detail(exc)}); check client_id / client_secret",
                exc.status,
            ) from None
        body = self._json(response)
        token, kind, expires = body.get("access_token"), body.get("token_type", "Bearer"), body.get("expires_in")
        if not isinstance(token, str) or not token or str(kind).lower() != "bearer":
            raise SourceRejected(f"{self.http.source}: {TOKEN_PATH} answered without a Bearer access_token", 200)
        lifetime = float(expires) if isinstance(expires, int | float) and expires > 0 else DEFAULT_EXPIRES_IN
        # Renew before the end, so a token never expires between our check and the bureau's.
        self._renew_at = self._clock() + lifetime - min(self.margin_seconds, lifetime / 10)
        self._token = token
        self.tokens_fetched += 1

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceRejected(f"{self.http.source}: {TOKEN_PATH} answered a body that is not a JSON object", 200)
        return body

    @staticmethod
    def _detail(exc: SourceRejected) -> str:
        # HttpClient's message ends with the response text; keep only the RFC 6749 error.
        marker = f"answered HTTP {exc.status}: "
        text = str(exc)
        error = _oauth_error(text.split(marker, 1)[1]) if marker in text else ""
        return f" {error}" if error else ""

    def get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        """GET with the Bearer token; on 401 one new token and one repeat."""
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.token()}"}
            try:
                return self.http.get(path, params=params, headers=headers)
            except SourceRejected as exc:
                if exc.status != 401:
                    raise
                self.invalidate()
                if attempt == 2:
                    raise SourceRejected(
                        f"{self.http.source}: GET {path} answered 401 again with a token issued just now"
                        f"{self._detail(exc)}; the bureau no longer accepts this client (check its grant and "
                        "client_id / client_secret)",
                        401,
                    ) from None
        raise AssertionError("unreachable")
