"""The platform under test: every test gets its own EDP_HOME and, when it needs one, its own warehouse database.

``settings`` creates a throw-away database per test on the PostgreSQL of
:mod:`tests.support.databases`; when that server is not reachable it falls
back to the platform's embedded pgserver. Either way a test using it (or
``warehouse_url`` / ``pg_admin``) needs a database server and is marked
``integration`` (:mod:`tests.support.markers` checks). ``home_settings`` is
for tests that need only a home of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from edp.settings import Settings, reset_settings
from edp.storage.migrate import migrate_url
from tests.support.databases import PG_ADMIN_URL, reachable

# A warehouse nobody answers at: a test on ``home_settings`` that reaches for the warehouse fails.
NO_WAREHOUSE_URL = "postgresql://nobody@127.0.0.1:1/no_warehouse"
# Variables of the developer's environment that would point a test at their platform.
_OUTSIDE_VARIABLES = ("EDP_WAREHOUSE_URL", "EDP_LAKE_URL", "EDP_ANSHAN_URL", "EDP_SOURCE_WEATHER_URL")


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine | None]:
    if not reachable(PG_ADMIN_URL):
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


@pytest.fixture(scope="session")
def warehouse_template(pg_admin: sa.Engine | None) -> Iterator[str | None]:
    """A migrated, empty warehouse made once per session: each test's database is a copy of it.

    As `edp migrate` leaves a new installation's warehouse, at the cost of an empty ``create database``.
    """
    if pg_admin is None:
        yield None
        return
    name = f"edp_template_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    try:
        migrate_url(sa.make_url(PG_ADMIN_URL).set(database=name))
        yield name
    finally:
        with pg_admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{name}" with (force)'))


@pytest.fixture
def warehouse_url(pg_admin: sa.Engine | None, warehouse_template: str | None, edp_home: Path) -> Iterator[str | None]:
    """A fresh, migrated database URL, or None when the embedded pgserver is used (migrated when made)."""
    if pg_admin is None:
        yield None
        return
    name = f"edp_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as c:
        c.execute(sa.text(f'create database "{name}" template "{warehouse_template}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url.replace("postgresql+psycopg://", "postgresql://")
    from edp.storage import warehouse

    warehouse._engine_for.cache_clear()
    with pg_admin.connect() as c:
        c.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        # Airflow's metadata database, made beside the warehouse's by edp.orchestration.airflow_run.
        c.execute(sa.text(f'drop database if exists "{name}_airflow" with (force)'))


def _isolated(edp_home: Path, warehouse: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    for var in _OUTSIDE_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EDP_HOME", str(edp_home))
    if warehouse:
        monkeypatch.setenv("EDP_WAREHOUSE_URL", warehouse)
    reset_settings()
    yield Settings()
    reset_settings()


@pytest.fixture
def settings(edp_home: Path, warehouse_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for an isolated platform: own home, lake, database."""
    yield from _isolated(edp_home, warehouse_url, monkeypatch)


@pytest.fixture
def home_settings(edp_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings with a home of their own and no warehouse database (nothing to start, no server)."""
    yield from _isolated(edp_home, NO_WAREHOUSE_URL, monkeypatch)
