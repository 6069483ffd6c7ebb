"""`provision` with EDP_SUPERSET_URL: a Superset run by its own image or chart (infra/deploy).

Only the read-only role and the assets are the platform's there: no environment, config,
metadata database or server of its own, and a refused admin login is reported, not repaired.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from edp.serve.superset import client as client_module
from edp.serve.superset import provisioning
from edp.serve.superset.client import SupersetAuthError, admin_client
from edp.serve.superset.errors import SupersetError
from edp.settings import Settings


class _FakeClient:
    def find(self, resource: str, column: str, value: str, columns: list[str]) -> list[dict[str, Any]]:
        return [{"id": 1, column: value}]


def test_an_external_superset_gets_the_role_and_the_assets_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def local_only(name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> None:
            raise AssertionError(f"{name} must not run against an external Superset")

        return fail

    for name in ("ensure_environment", "write_config", "init_metadata", "start_server"):
        monkeypatch.setattr(provisioning, name, local_only(name))
    monkeypatch.setattr(provisioning, "ensure_reader_role", lambda settings: calls.append("reader role"))
    monkeypatch.setattr(provisioning, "prune_retired", lambda client, assets_dir: calls.append("retire") or [])
    monkeypatch.setattr(provisioning, "import_assets", lambda client, settings, assets_dir: calls.append("assets"))

    def access(client: _FakeClient, database: str) -> dict[str, Any]:
        calls.append("roles")
        return {"roles": 27, "rls_datasets": 1, "changed": []}

    monkeypatch.setattr(provisioning, "ensure_access", access)

    @contextmanager
    def fake_admin(settings: Settings, base: str) -> Iterator[_FakeClient]:
        calls.append(f"login {base}")
        yield _FakeClient()

    monkeypatch.setattr(provisioning, "admin_client", fake_admin)
    settings = Settings(home=tmp_path, superset_url="http://superset:8088/")
    result = provisioning.provision(settings)
    # The read roles and the towns' row-level security are the platform's there too.
    assert calls == ["reader role", "login http://superset:8088", "retire", "assets", "roles"]
    assert result["url"] == "http://superset:8088"
    assert result["dashboard_url"].startswith("http://superset:8088/superset/dashboard/")


def test_a_refused_login_on_an_external_superset_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: client_module.SupersetClient) -> None:
        raise SupersetAuthError("refused")

    def no_local_reset(settings: Settings) -> None:
        raise AssertionError("the platform cannot reset the password of a Superset it does not run")

    monkeypatch.setattr(client_module.SupersetClient, "login", refuse)
    monkeypatch.setattr(client_module, "reset_admin_password", no_local_reset)
    settings = Settings(home=tmp_path, superset_url="http://superset:8088")
    with pytest.raises(SupersetError, match="superset_admin_password"), admin_client(settings, "http://superset:8088"):
        pass
