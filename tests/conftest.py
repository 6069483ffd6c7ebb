"""Shared fixtures: every test gets its own EDP_HOME and its own database.

The suite uses the PostgreSQL at EDP_TEST_PG_URL (default: the machine's
server at 127.0.0.1:5432) for speed and creates a throw-away database per
test; when that server is not reachable it falls back to an embedded pgserver.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from edp.settings import Settings, reset_settings

# Fixtures shared across folders (connectors, stand-ins, quality) live in tests/support.
pytest_plugins = ["tests.support.platform_scan", "tests.support.sl323"]

PG_ADMIN_URL = os.environ.get("EDP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _server_reachable() -> bool:
    try:
        eng = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine | None]:
    if not _server_reachable():
        yield None
        return
    eng = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield eng
    eng.dispose()


@pytest.fixture
def edp_home(tmp_path: Path) -> Path:
    home = tmp_path / "edp-home"
    home.mkdir()
    return home


@pytest.fixture
def warehouse_url(pg_admin: sa.Engine | None, edp_home: Path) -> Iterator[str | None]:
    """A fresh database URL, or None when the embedded pgserver is used."""
    if pg_admin is None:
        yield None
        return
    name = f"edp_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url.replace("postgresql+psycopg://", "postgresql://")
    from edp.storage import warehouse

    warehouse._engine_for.cache_clear()
    with pg_admin.connect() as c:
        c.execute(sa.text(f'drop database if exists "{name}" with (force)'))


@pytest.fixture
def settings(edp_home: Path, warehouse_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for an isolated platform: own home, lake, database."""
    monkeypatch.setenv("EDP_HOME", str(edp_home))
    if warehouse_url:
        monkeypatch.setenv("EDP_WAREHOUSE_URL", warehouse_url)
    else:
        monkeypatch.delenv("EDP_WAREHOUSE_URL", raising=False)
    for var in ("EDP_LAKE_URL", "EDP_ANSHAN_URL", "EDP_SOURCE_WEATHER_URL"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()
    s = Settings()
    yield s
    reset_settings()
