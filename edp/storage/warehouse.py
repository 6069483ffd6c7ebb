"""The PostgreSQL warehouse: configured URL, or an embedded pgserver.

Unset ``EDP_WAREHOUSE_URL`` means: start (or reuse) a PostgreSQL from the
``pgserver`` wheel in ``$EDP_HOME/pg``. It listens on a Unix socket only and
keeps running after this process exits, so the CLI, Airflow tasks, dbt and
Superset all reach the same server.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from edp.settings import Settings
from edp.storage.sessions import application_name, session_parameters

log = logging.getLogger(__name__)

EMBEDDED_DB = "edp"


@dataclass(frozen=True)
class Conn:
    """Connection parts, in the shapes dbt, GX and Superset each want."""

    host: str  # a hostname, or a socket directory (starts with '/')
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    def sqlalchemy_url(self, driver: str = "psycopg") -> URL:
        if self.is_socket:
            return URL.create(
                f"postgresql+{driver}",
                username=self.user,
                password=self.password or None,
                database=self.dbname,
                query={"host": self.host, "port": str(self.port)},
            )
        return URL.create(
            f"postgresql+{driver}",
            username=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            database=self.dbname,
        )


def _pgserver(settings: Settings) -> ModuleType:
    """pgserver, imported with a usable XDG_RUNTIME_DIR (its lock file's folder; no RuntimeDirWarning)."""
    os.environ["XDG_RUNTIME_DIR"] = str(settings.runtime_dir())
    import pgserver

    return pgserver


def _embedded_conn(settings: Settings) -> Conn:
    pgserver = _pgserver(settings)

    pgdata = settings.home_subdir("pg")
    # cleanup_mode=None: the server outlives this process on purpose.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    base = make_url(server.get_uri())
    host = str(base.query.get("host"))
    port = int(str(base.query.get("port", 5432))) if base.query.get("port") else 5432
    conn = Conn(host=host, port=port, user="postgres", password="", dbname=EMBEDDED_DB)
    admin = sa.create_engine(
        Conn(host, port, "postgres", "", "postgres").sqlalchemy_url(),
        isolation_level="AUTOCOMMIT",
        connect_args={"application_name": application_name()},
    )
    with admin.connect() as c:
        exists = c.execute(sa.text("select 1 from pg_database where datname=:d"), {"d": EMBEDDED_DB}).scalar()
        if not exists:
            c.execute(sa.text(f'create database "{EMBEDDED_DB}"'))
    admin.dispose()
    if not exists:
        # The platform made this database just now: installing it includes its schema (edp.storage.migrate).
        from edp.storage.migrate import migrate_url

        migrate_url(conn.sqlalchemy_url())
    return conn


def _parse_conn(url: str) -> Conn:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or ["/var/run/postgresql"])[0]
    return Conn(
        host=host,
        port=parts.port or int((query.get("port") or ["5432"])[0]),
        user=parts.username or "postgres",
        password=parts.password or "",
        dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
    )


@lru_cache(maxsize=8)
def _conn_for(url: str | None, home: str) -> Conn:
    if url:
        return _parse_conn(url)
    from edp.settings import Settings as _S

    return _embedded_conn(_S(home=Path(home)))


def connection_info(settings: Settings) -> Conn:
    url = settings.warehouse_url.get_secret_value() if settings.warehouse_url else None
    return _conn_for(url, str(settings.home))


def is_embedded(settings: Settings) -> bool:
    return settings.warehouse_url is None


@lru_cache(maxsize=8)
def _engine_for(url: URL, params: tuple[tuple[str, str], ...] = ()) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True, future=True, connect_args=dict(params))


def engine(settings: Settings) -> Engine:
    """The warehouse's engine; its sessions are named ``edp:<command>:<pid>`` and end with a dead client
    (:mod:`edp.storage.sessions`)."""
    conn = connection_info(settings)
    return _engine_for(conn.sqlalchemy_url(), tuple(sorted(session_parameters(settings, conn).items())))


def session_url(settings: Settings, command: str | None = None) -> URL:
    """The warehouse URL with the platform's session parameters, for tools that make their own engine (GX)."""
    conn = connection_info(settings)
    return conn.sqlalchemy_url().update_query_dict(session_parameters(settings, conn, command))


@contextmanager
def advisory_lock(settings: Settings, lock_class: int, name: str) -> Iterator[None]:
    """Hold the session-level advisory lock (``lock_class``, ``hashtext(name)``) for the block.

    Two-key locks: a key space apart from the one-key transaction locks (a raw table's load lock).
    Its own connection holds it, so the block's transactions commit as they go; a dead client's
    lock goes with its connection.
    """
    with engine(settings).connect() as conn:
        key = {"c": lock_class, "n": name}
        conn.execute(sa.text("select pg_advisory_lock(:c, hashtext(:n))"), key)
        conn.commit()
        try:
            yield
        finally:
            conn.rollback()
            conn.execute(sa.text("select pg_advisory_unlock(:c, hashtext(:n))"), key)
            conn.commit()


def stop_embedded(settings: Settings) -> bool:
    """Stop the embedded PostgreSQL of this EDP_HOME, if one runs."""
    pgdata = settings.home / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return False
    pgserver = _pgserver(settings)

    _conn_for.cache_clear()
    _engine_for.cache_clear()
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    # A handle this process already holds was opened to outlive it (cleanup_mode None).
    server.cleanup_mode = "stop"
    server.cleanup()
    return True
