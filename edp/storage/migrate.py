"""The warehouse schema, versioned: plain SQL migrations applied once, in order (`edp migrate`).

Each file ``edp/storage/migrations/NNNN_<name>.sql`` is one version. ``migrate``
applies those not yet applied, oldest first, each in its own transaction
together with its row in ``ops.schema_migrations`` (version, name, SHA-256 of
the file, when, by whom), so a migration is either wholly applied and recorded
or not at all. One session-level advisory lock serialises concurrent runs (the
CLI, ``edp up``, an Airflow start): the second waits, then finds nothing to do.
A file changed after it was applied is refused: the warehouse no longer says
what the file says, and a new migration is how a change is made.

Run-time code (ingest, load, check, sync, alerts, report) never changes the
schema: ``require_current`` checks, with one plain ``select``, that the
warehouse is at the version this code needs, and otherwise fails with one line
that says to run ``edp migrate``.

Why not Alembic (installed with Airflow): its migrations are Python modules
chained by revision ids, it keeps only the current revision (no checksum, no
history of what ran when) and would be a dependency we only have through
Airflow. The schema here is a handful of ``create ... if not exists``
statements; a reviewer reads them as SQL, and this runner is ~100 lines.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import psycopg
import sqlalchemy as sa

from edp.errors import ConfigError, EdpError
from edp.settings import Settings

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Serialises migration runs on one warehouse (the platform's other DDL locks are 21038100xx).
MIGRATION_LOCK = 2103810000
TABLE = "ops.schema_migrations"

_BOOTSTRAP = (
    "create schema if not exists ops",
    f"""
    create table if not exists {TABLE} (
        version integer primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now(),
        applied_by text not null default current_user
    )
    """,
)


# Warehouses this process found at the needed version (the check is made once per process).
_known_current: set[str] = set()


class SchemaOutOfDate(ConfigError):
    """The warehouse is not at the schema version this code needs."""


class MigrationRefused(ConfigError):
    """The migrations on disk and the ones recorded in the warehouse disagree."""


class MigrationFailed(EdpError):
    """A migration's SQL failed on this warehouse; its transaction was rolled back."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    checksum: str

    @property
    def file_name(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    checksum: str
    applied_at: datetime


def available(folder: Path = MIGRATIONS_DIR) -> tuple[Migration, ...]:
    """The migrations on disk, by version; versions run 1, 2, 3, … without a gap."""
    found: list[Migration] = []
    for path in sorted(folder.iterdir()):
        if path.suffix != ".sql":
            continue
        match = FILE_NAME.match(path.name)
        if not match:
            raise MigrationRefused(f"{path}: a migration is named NNNN_<lowercase_name>.sql")
        data = path.read_bytes()
        found.append(Migration(int(match[1]), match[2], data.decode("utf-8"), hashlib.sha256(data).hexdigest()))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationRefused(f"{folder}: migration versions must run 1, 2, 3, … without gaps or repeats: {versions}")
    return tuple(found)


@cache
def required_version() -> int:
    """The schema version this code needs: its newest migration."""
    return len(available())


def applied(engine: sa.Engine) -> list[Applied]:
    """What the warehouse records as applied, oldest first (empty on a warehouse never migrated)."""
    with engine.connect() as c:
        if c.execute(sa.text("select to_regclass(:t)"), {"t": TABLE}).scalar() is None:
            return []
        rows = c.execute(sa.text(f"select version, name, checksum, applied_at from {TABLE} order by version"))
        return [Applied(int(r.version), str(r.name), str(r.checksum), r.applied_at) for r in rows]


def current_version(engine: sa.Engine) -> int:
    """The warehouse's schema version: one plain select, no lock beyond it (0: never migrated)."""
    with engine.connect() as c:
        if c.execute(sa.text("select to_regclass(:t)"), {"t": TABLE}).scalar() is None:
            return 0
        return int(c.execute(sa.text(f"select coalesce(max(version), 0) from {TABLE}")).scalar_one())


def _check_history(done: list[Applied], known: tuple[Migration, ...]) -> None:
    by_version = {m.version: m for m in known}
    for row in done:
        m = by_version.get(row.version)
        if m is None:
            continue  # a newer release migrated this warehouse; its versions are not ours to judge
        if m.checksum != row.checksum:
            raise MigrationRefused(
                f"migration {m.file_name} was changed after it was applied on {row.applied_at:%Y-%m-%d %H:%M} "
                f"(sha256 {m.checksum[:12]}…, applied {row.checksum[:12]}…): restore it and put the change "
                "in a new migration"
            )


def _apply(c: sa.Connection, m: Migration) -> None:
    """``m`` and its record in one transaction: a failing statement leaves the warehouse at the version before."""
    try:
        with c.begin():
            # Straight to the driver without parameters: the file goes as written (a '%' is a '%'),
            # every statement of it, in this transaction.
            with c.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
                cur.execute(m.sql)
            c.execute(
                sa.text(f"insert into {TABLE} (version, name, checksum) values (:v, :n, :c)"),
                {"v": m.version, "n": m.name, "c": m.checksum},
            )
    except (psycopg.Error, sa.exc.DBAPIError) as exc:
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise MigrationFailed(
            f"migration {m.file_name} failed, nothing of it applied (warehouse at version {m.version - 1}): "
            f"{type(cause).__name__}: {first}"
        ) from exc


def migrate_engine(engine: sa.Engine, migrations: tuple[Migration, ...] | None = None) -> list[Migration]:
    """Apply the pending ``migrations`` (default: those on disk) to the warehouse ``engine`` reaches."""
    known = available() if migrations is None else migrations
    with engine.connect() as c:
        # Session-level: held across the per-migration transactions below.
        c.execute(sa.text("select pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
        c.commit()
        try:
            with c.begin():
                for stmt in _BOOTSTRAP:
                    c.execute(sa.text(stmt))
            rows = c.execute(sa.text(f"select version, name, checksum, applied_at from {TABLE} order by version"))
            done = [Applied(int(r.version), str(r.name), str(r.checksum), r.applied_at) for r in rows]
            c.commit()
            _check_history(done, known)
            versions = {row.version for row in done}
            pending = [m for m in known if m.version not in versions]
            for m in pending:
                _apply(c, m)
                log.info("warehouse schema: applied %s", m.file_name)
            return pending
        finally:
            c.rollback()  # a failed statement leaves the transaction aborted: unlock outside it
            c.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
            c.commit()


def migrate(settings: Settings) -> list[Migration]:
    """``edp migrate``: bring this installation's warehouse to the newest schema version."""
    from edp.storage.warehouse import engine

    applied_now = migrate_engine(engine(settings))
    _known_current.add(_target(settings))
    return applied_now


def _target(settings: Settings) -> str:
    from edp.storage.warehouse import connection_info

    return connection_info(settings).sqlalchemy_url().render_as_string(hide_password=True)


def require_current(settings: Settings) -> None:
    """Fail with one clear line unless the warehouse is at (or past) the version this code needs.

    Checked once per process and warehouse: a plain select of the newest recorded version.
    """
    target = _target(settings)
    if target in _known_current:
        return
    from edp.storage.warehouse import engine

    have, need = current_version(engine(settings)), required_version()
    if have < need:
        raise SchemaOutOfDate(f"warehouse schema at version {have}, this code needs {need}: run `edp migrate`")
    _known_current.add(target)


def migrate_url(url: str | sa.URL) -> list[Migration]:
    """Migrate the warehouse at ``url`` (a fresh database a test or benchmark made, say)."""
    target = sa.make_url(url)
    if target.drivername == "postgresql":
        target = target.set(drivername="postgresql+psycopg")
    fresh = sa.create_engine(target, poolclass=sa.NullPool)
    try:
        return migrate_engine(fresh)
    finally:
        fresh.dispose()
