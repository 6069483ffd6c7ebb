"""Fixtures for the water source and its stand-in: an SL 323 database of its own per test, on MariaDB and PostgreSQL.

The stand-in's database is separate from the warehouse database the
``settings`` fixture creates. Servers: MariaDB at 127.0.0.1:3306 (root, no
password) and PostgreSQL at 127.0.0.1:5432 (postgres, trust); a test whose
server is not reachable is skipped, naming the server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from standins.water import create_database, drop_database, populate

from edp.settings import Settings

CST = timezone(timedelta(hours=8))
# In the main flood season (0601-0915), so 岔沟水库 is compared with its main-season limit.
NOW = datetime(2026, 7, 29, 10, 30, tzinfo=CST)
SEED = 11
SCALE = 0.15

SERVERS = {
    "mariadb": os.environ.get("EDP_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/"),
    "postgresql": os.environ.get("EDP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
}
_reachable: dict[str, bool] = {}


def _reachable_server(name: str) -> bool:
    if name not in _reachable:
        url = sa.make_url(SERVERS[name])
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3}, poolclass=sa.NullPool)
        try:
            with engine.connect():
                _reachable[name] = True
        except Exception:
            _reachable[name] = False
        finally:
            engine.dispose()
    return _reachable[name]


@pytest.fixture(params=sorted(SERVERS))
def dbms(request: pytest.FixtureRequest) -> str:
    if not _reachable_server(request.param):
        pytest.skip(f"{request.param} server {SERVERS[request.param]} is not reachable")
    return request.param


@pytest.fixture
def server_url(dbms: str) -> str:
    return SERVERS[dbms]


@pytest.fixture
def sl323(server_url: str) -> Iterator[str]:
    """A fresh, empty database ``sl323_test_<uuid>``; its URL (explicit empty password)."""
    name = f"sl323_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)


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
    info = populate(sl323, seed=SEED, scale=SCALE, now=NOW)
    monkeypatch.setenv("EDP_SOURCE_WATER_URL", sl323)
    return WaterEnv(Settings(), sl323, info)
