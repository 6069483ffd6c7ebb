"""The read-only warehouse role Superset connects as."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from edp.serve.superset import reader_role
from edp.settings import Settings
from edp.storage import warehouse

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
