"""The water bureau's SL 323 database, of each test's own, on MariaDB and PostgreSQL.

The stand-in's database is separate from the warehouse database the
``settings`` fixture creates. ``dbms`` runs a test once per server (see
:mod:`tests.support.databases`); a test whose server is not reachable is
skipped, naming the server. ``sl323_database`` is the same database on the
PostgreSQL server alone, for tests that need the water bureau as one source
among others.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from standins.water import create_database, drop_database, populate

from edp.settings import Settings
from tests.support.databases import MARIADB_URL, PG_ADMIN_URL, reachable
from tests.support.sources import point_at

CST = timezone(timedelta(hours=8))
# In the main flood season (0601-0915), so 岔沟水库 is compared with its main-season limit.
NOW = datetime(2026, 7, 29, 10, 30, tzinfo=CST)
SEED = 11
SCALE = 0.15

SERVERS = {"mariadb": MARIADB_URL, "postgresql": PG_ADMIN_URL}


@contextmanager
def sl323_database(prefix: str = "sl323_test", server_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A fresh, empty database ``<prefix>_<uuid>`` on ``server_url``, dropped afterwards; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name)
    try:
        yield url
    finally:
        drop_database(server_url, name)


@pytest.fixture(params=sorted(SERVERS))
def dbms(request: pytest.FixtureRequest) -> str:
    if not reachable(SERVERS[request.param]):
        pytest.skip(f"{request.param} server {SERVERS[request.param]} is not reachable")
    return request.param


@pytest.fixture
def server_url(dbms: str) -> str:
    return SERVERS[dbms]


@pytest.fixture
def sl323(server_url: str) -> Iterator[str]:
    """A fresh, empty database ``sl323_test_<uuid>``; its URL (explicit empty password)."""
    with sl323_database(server_url=server_url) as url:
        yield url


@dataclass
class WaterEnv:
    settings: Settings
    url: str  # the stand-in database (explicit empty password)
    info: dict[str, Any]  # what populate() wrote
    now: datetime = NOW
    seed: int = SEED

    def local(self, iso: str) -> datetime:
        """A naive local ISO time of the stand-in as an aware datetime."""
        return datetime.fromisoformat(iso).replace(tzinfo=CST)


@pytest.fixture
def water(settings: Settings, sl323: str, monkeypatch: pytest.MonkeyPatch) -> WaterEnv:
    """The stand-in filled up to NOW; the platform pointed at it."""
    info = populate(sl323, seed=SEED, scale=SCALE, now=NOW, storm="summer")
    return WaterEnv(point_at(monkeypatch, "water", sl323), sl323, info)
