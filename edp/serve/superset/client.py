"""Superset's REST API as the admin, and Rison for its list queries."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from edp.secrets import generated_secret
from edp.serve.superset.errors import SupersetError
from edp.serve.superset.metadata import ADMIN_SECRET, ADMIN_USER, reset_admin_password
from edp.settings import Settings

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 120.0


def rison(value: Any) -> str:
    """Encode ``value`` as Rison, the query-string format of Superset's list APIs."""
    if value is None:
        return "!n"
    if value is True:
        return "!t"
    if value is False:
        return "!f"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        # Always quoted: valid for any string, and ! and ' are the only escapes.
        return "'" + value.replace("!", "!!").replace("'", "!'") + "'"
    if isinstance(value, Mapping):
        return "(" + ",".join(f"{rison(str(k))}:{rison(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(rison(v) for v in value) + ")"
    raise TypeError(f"cannot rison-encode {type(value).__name__}")


class SupersetClient:
    """Superset REST API as the admin: JWT login, then a CSRF token for writes."""

    def __init__(self, base: str, username: str, password: str, timeout: float = HTTP_TIMEOUT) -> None:
        self._http = httpx.Client(base_url=base, timeout=timeout)
        self._username = username
        self._password = password
        self._csrf: str | None = None

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def login(self) -> None:
        resp = self._http.post(
            "/api/v1/security/login",
            json={"username": self._username, "password": self._password, "provider": "db", "refresh": False},
        )
        if resp.status_code == 401:
            raise SupersetAuthError(f"Superset refused the login of {self._username!r}")
        _raise_for(resp, "login")
        self._http.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def _csrf_token(self) -> str:
        # The token is bound to the session cookie, which the httpx client keeps.
        if self._csrf is None:
            self._csrf = str(self.get("/api/v1/security/csrf_token/")["result"])
        return self._csrf

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        resp = self._http.get(path, params=params)
        _raise_for(resp, f"GET {path}")
        return resp.json()

    def post(self, path: str, **kwargs: Any) -> Any:
        headers = {"X-CSRFToken": self._csrf_token(), "Referer": str(self._http.base_url)}
        resp = self._http.post(path, headers=headers, **kwargs)
        _raise_for(resp, f"POST {path}")
        return resp.json()

    def put(self, path: str, **kwargs: Any) -> Any:
        headers = {"X-CSRFToken": self._csrf_token(), "Referer": str(self._http.base_url)}
        resp = self._http.put(path, headers=headers, **kwargs)
        _raise_for(resp, f"PUT {path}")
        return resp.json()

    def delete(self, path: str) -> Any:
        headers = {"X-CSRFToken": self._csrf_token(), "Referer": str(self._http.base_url)}
        resp = self._http.delete(path, headers=headers)
        _raise_for(resp, f"DELETE {path}")
        return resp.json()

    def find(self, resource: str, column: str, value: str, columns: list[str]) -> list[dict[str, Any]]:
        """Objects of ``resource`` (chart, dashboard, database...) whose ``column`` equals ``value``."""
        query = {"filters": [{"col": column, "opr": "eq", "value": value}], "columns": columns, "page_size": 100}
        return list(self.get(f"/api/v1/{resource}/", params={"q": rison(query)})["result"])


class SupersetAuthError(SupersetError):
    """The admin login was refused."""


def _raise_for(resp: httpx.Response, what: str) -> None:
    if resp.is_success:
        return
    try:
        detail: Any = resp.json()
    except ValueError:
        detail = resp.text[:500]
    raise SupersetError(f"Superset {what} answered {resp.status_code}: {detail}")


@contextmanager
def admin_client(settings: Settings, base: str) -> Iterator[SupersetClient]:
    """A logged-in admin client; repairs the admin password once if it drifted."""
    password = generated_secret(settings, ADMIN_SECRET)
    client = SupersetClient(base, ADMIN_USER, password)
    try:
        try:
            client.login()
        except SupersetAuthError:
            if settings.superset_url:
                raise SupersetAuthError(
                    f"Superset at {base} refused the login of {ADMIN_USER!r}: the secret {ADMIN_SECRET} "
                    "in $EDP_HOME/secrets must be the admin password its init job was given"
                ) from None
            # The metadata DB outlived a regenerated secret: make them agree again.
            log.warning("Superset admin login refused; resetting the admin password")
            reset_admin_password(settings)
            client.login()
        yield client
    finally:
        client.close()
