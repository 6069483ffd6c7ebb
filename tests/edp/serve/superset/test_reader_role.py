"""The read-only warehouse role Superset connects as."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from edp.serve.superset import reader_role
from edp.settings import Settings, reset_settings
from edp.storage import migrate, warehouse

pytestmark = pytest.mark.integration


def _reader_engine(settings: Settings) -> sa.Engine:
    return sa.create_engine(reader_role.reader_connection(settings).sqlalchemy_url(), poolclass=sa.pool.NullPool)


def _denied(engine: sa.Engine, sql: str) -> bool:
    try:
        with engine.begin() as c:
            c.exec_driver_sql(sql)
    except DBAPIError as exc:
        sqlstate = getattr(exc.orig, "sqlstate", None)
        # 42501 insufficient_privilege, 25006 read_only_sql_transaction
        assert sqlstate in {"42501", "25006"}, exc
        return True
    return False


@pytest.fixture
def warehouse_tables(settings: Settings) -> None:
    with warehouse.engine(settings).begin() as c:
        c.exec_driver_sql("create table marts.fct_existing (id int)")
        c.exec_driver_sql("insert into marts.fct_existing values (1)")
        c.exec_driver_sql("create table raw.weather_obs (id int)")
        c.exec_driver_sql("create table ops.runs (id int)")


@pytest.mark.usefixtures("warehouse_tables")
def test_reader_reads_marts_only(settings: Settings) -> None:
    reader_role.ensure_reader_role(settings)
    reader_role.ensure_reader_role(settings)  # idempotent
    # Created after the grant: readable through the default privileges (as dbt's next build).
    with warehouse.engine(settings).begin() as c:
        c.exec_driver_sql("create table marts.fct_later (id int)")
    reader = _reader_engine(settings)
    try:
        with reader.connect() as c:
            assert c.exec_driver_sql("select count(*) from marts.fct_existing").scalar() == 1
            assert c.exec_driver_sql("select count(*) from marts.fct_later").scalar() == 0
        assert _denied(reader, "select * from raw.weather_obs")
        assert _denied(reader, "select * from ops.runs")
        assert _denied(reader, "insert into marts.fct_existing values (2)")
        assert _denied(reader, "delete from marts.fct_existing")
        assert _denied(reader, "create table marts.sneaky (id int)")
        assert _denied(reader, "create table public.sneaky (id int)")
        # Even a session that lifts the read-only default has no write grant.
        assert _denied(reader, "set transaction read write; insert into marts.fct_existing values (3)")
    finally:
        reader.dispose()


@pytest.mark.usefixtures("warehouse_tables")
def test_reader_password_is_stored_hashed(settings: Settings, pg_admin: sa.Engine | None) -> None:
    if pg_admin is None:
        pytest.skip("needs the shared PostgreSQL server (superuser view of pg_authid)")
    reader_role.ensure_reader_role(settings)
    with pg_admin.connect() as c:
        stored = c.execute(sa.text("select rolpassword from pg_authid where rolname = 'edp_reader'")).scalar()
    assert stored and stored.startswith("SCRAM-SHA-256$")


def _connects(settings: Settings, dbname: str) -> bool:
    conn = reader_role.reader_connection(settings)
    eng = sa.create_engine(
        warehouse.Conn(conn.host, conn.port, conn.user, conn.password, dbname).sqlalchemy_url(),
        poolclass=sa.pool.NullPool,
    )
    try:
        with eng.connect() as c:
            c.exec_driver_sql("select 1")
        return True
    except DBAPIError as exc:
        assert "does not have CONNECT privilege" in str(exc.orig), exc
        return False
    finally:
        eng.dispose()


@pytest.mark.usefixtures("warehouse_tables")
def test_reader_cannot_create_temp_tables_nor_reach_the_platforms_other_databases(
    settings: Settings, pg_admin: sa.Engine | None
) -> None:
    wh = warehouse.connection_info(settings).dbname
    # Airflow's metadata database beside the warehouse (edp.orchestration.airflow_run): the platform's own.
    sibling = f"{wh}_airflow"
    admin = pg_admin or sa.create_engine(
        warehouse.Conn(*_admin_parts(settings), "postgres").sqlalchemy_url(), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.exec_driver_sql(f'create database "{sibling}"')
    try:
        assert _connects(settings, sibling)  # PUBLIC's CONNECT, before the role is set up
        reader_role.ensure_reader_role(settings)
        reader = _reader_engine(settings)
        try:
            assert _denied(reader, "create temp table scratch (id int)")
            assert _denied(reader, "create temporary table scratch as select 1 as id")
        finally:
            reader.dispose()
        assert not _connects(settings, sibling)
        if warehouse.is_embedded(settings):  # the embedded server is the platform's alone: nothing else is open
            assert not _connects(settings, "postgres")
        assert _connects(settings, wh)
        # The warehouse user keeps TEMP (dbt's incremental models write temp tables).
        with warehouse.engine(settings).begin() as c:
            c.exec_driver_sql("create temp table kept (id int)")
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'drop database if exists "{sibling}" with (force)')


def _admin_parts(settings: Settings) -> tuple[str, int, str, str]:
    conn = warehouse.connection_info(settings)
    return conn.host, conn.port, conn.user, conn.password


def test_on_the_embedded_server_the_reader_reaches_the_warehouse_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded server is the platform's alone: every other database is closed to the reader."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.delenv("EDP_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("EDP_HOME", str(home))
    reset_settings()
    settings = Settings()
    try:
        # Made with the database (edp.storage.warehouse): an embedded warehouse is migrated when created.
        assert migrate.current_version(warehouse.engine(settings)) == migrate.required_version()
        reader_role.ensure_reader_role(settings)
        assert not _connects(settings, "postgres")
        assert not _connects(settings, "template1")
        assert _connects(settings, warehouse.connection_info(settings).dbname)
        reader = _reader_engine(settings)
        try:
            assert _denied(reader, "create temp table scratch (id int)")
        finally:
            reader.dispose()
    finally:
        warehouse.stop_embedded(settings)
        reset_settings()
