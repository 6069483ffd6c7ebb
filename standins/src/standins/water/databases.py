"""Databases and read-only accounts for the SL 323 stand-in on a MariaDB/MySQL or PostgreSQL server.

The only DBMS-aware code of the stand-in (creating databases and accounts
is not portable SQL); the connector itself never needs any of this.
A URL whose user has no password is written with an explicit empty password
(``root:@``), which tells the water connector not to insert its configured one.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _check(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"{what} {name!r} is not a plain identifier (letters, digits, underscore)")
    return name


def _admin(server_url: str, database: str | None = None) -> sa.Engine:
    url = sa.make_url(server_url)
    if database is not None:
        url = url.set(database=database)
    elif url.get_backend_name() == "postgresql":
        url = url.set(database="postgres")
    else:
        url = url.set(database=None)
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def _is_mysql(url: sa.URL) -> bool:
    return url.get_backend_name() in ("mysql", "mariadb")


def database_url(server_url: str, name: str, *, user: str | None = None, password: str | None = None) -> str:
    """The URL of database ``name`` on the server (explicit empty password when there is none)."""
    url = sa.make_url(server_url).set(database=name)
    if user is not None:
        url = url.set(username=user, password=password)
    if url.password is None:
        url = url.set(password="")
    return url.render_as_string(hide_password=False)


def create_database(server_url: str, name: str) -> str:
    """Create an empty database ``name`` (dropping an old one) and return its URL."""
    _check(name, "database")
    drop_database(server_url, name)
    engine = _admin(server_url)
    try:
        with engine.connect() as conn:
            if _is_mysql(engine.url):
                conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
            else:
                conn.execute(sa.text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    finally:
        engine.dispose()
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    _check(name, "database")
    engine = _admin(server_url)
    try:
        with engine.connect() as conn:
            if _is_mysql(engine.url):
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            else:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def create_reader(server_url: str, database: str, user: str, password: str) -> str:
    """A read-only account (SELECT only) on ``database``; returns its URL *without* the password.

    That is how the platform is configured in production: the URL names the
    account, the password comes from the credential store.
    """
    _check(database, "database")
    _check(user, "user")
    drop_reader(server_url, user, (database,))
    admin = _admin(server_url)
    try:
        with admin.connect() as conn:
            if _is_mysql(admin.url):
                for host in ("%", "localhost"):
                    conn.execute(sa.text(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY {_literal(password)}"))
                    conn.execute(sa.text(f"GRANT SELECT ON `{database}`.* TO '{user}'@'{host}'"))
            else:
                conn.execute(sa.text(f'CREATE ROLE "{user}" LOGIN PASSWORD {_literal(password)}'))
                conn.execute(sa.text(f'GRANT CONNECT ON DATABASE "{database}" TO "{user}"'))
        if not _is_mysql(admin.url):
            target = _admin(server_url, database)
            try:
                with target.connect() as conn:
                    conn.execute(sa.text(f'GRANT USAGE ON SCHEMA public TO "{user}"'))
                    conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{user}"'))
            finally:
                target.dispose()
    finally:
        admin.dispose()
    return (
        sa.make_url(server_url)
        .set(database=database, username=user, password=None)
        .render_as_string(hide_password=False)
    )


def drop_reader(server_url: str, user: str, databases: tuple[str, ...] = ()) -> None:
    """Drop the account; on PostgreSQL first its privileges in ``databases`` (those still existing)."""
    _check(user, "user")
    admin = _admin(server_url)
    try:
        with admin.connect() as conn:
            if _is_mysql(admin.url):
                for host in ("%", "localhost"):
                    conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'{host}'"))
                return
            if not conn.execute(sa.text("select 1 from pg_roles where rolname = :u"), {"u": user}).first():
                return
            existing = {r[0] for r in conn.execute(sa.text("select datname from pg_database"))}
            for db in databases:
                if db in existing:
                    target = _admin(server_url, _check(db, "database"))
                    try:
                        with target.connect() as tconn:
                            tconn.execute(sa.text(f'DROP OWNED BY "{user}"'))
                    finally:
                        target.dispose()
                    conn.execute(sa.text(f'REVOKE ALL ON DATABASE "{db}" FROM "{user}"'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{user}"'))
    finally:
        admin.dispose()


def provision(
    server_url: str,
    *,
    database: str = "sl323",
    seed: int = 42,
    scale: float = 1.0,
    reader: tuple[str, str] | None = None,
    **populate_args: Any,
) -> dict[str, Any]:
    """What the sandbox launcher calls: a fresh database, filled; ``url`` goes to sandbox.json as ``water_url``.

    With ``reader=(user, password)`` a read-only account is created and ``url``
    names it without the password (the platform inserts its credential).
    """
    from standins.water.populate import populate

    admin_url = create_database(server_url, database)
    info = populate(admin_url, seed=seed, scale=scale, **populate_args)
    info["admin_url"] = sa.make_url(admin_url).render_as_string(hide_password=True)
    info["url"] = create_reader(server_url, database, *reader) if reader else admin_url
    return info
