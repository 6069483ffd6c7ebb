"""The database servers the suite uses, and whether they answer.

PostgreSQL at ``EDP_TEST_PG_URL`` (default: the machine's server at
127.0.0.1:5432, trust) holds the per-test warehouse databases and the water
stand-in's PostgreSQL databases; MariaDB at ``EDP_TEST_MARIADB_URL`` (default
127.0.0.1:3306, root, no password) holds the water stand-in's MariaDB ones.
"""

from __future__ import annotations

import functools
import os

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("EDP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MARIADB_URL = os.environ.get("EDP_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")


@functools.cache
def reachable(url: str) -> bool:
    """Whether the server at ``url`` accepts a connection within 3 seconds (asked once per run)."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3}, poolclass=sa.NullPool)
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()
