"""Step 4: the read-only warehouse role Superset connects as (SELECT on ``marts``, nothing else)."""

from __future__ import annotations

import psycopg
import sqlalchemy as sa

from edp.secrets import generated_secret
from edp.serve.superset.errors import SupersetError
from edp.settings import Settings
from edp.storage import warehouse

READER_ROLE = "edp_reader"
READER_SECRET = "warehouse_reader_password"
READER_SCHEMA = "marts"
# Superset's own password mask, for showing a URI without its password.
PASSWORD_MASK = "X" * 10

_CREATE_ROLE = f"""
do $$
begin
    create role {READER_ROLE} login;
exception when duplicate_object or unique_violation then
    null;  -- exists already (or a concurrent provision just made it)
end
$$
"""


def reader_connection(settings: Settings) -> warehouse.Conn:
    """Connection parts for the read-only role on this installation's warehouse."""
    conn = warehouse.connection_info(settings)
    password = generated_secret(settings, READER_SECRET)
    return warehouse.Conn(conn.host, conn.port, READER_ROLE, password, conn.dbname)


def _set_reader_password(c: sa.Connection, password: str) -> None:
    # Hash client-side (SCRAM, as psql's \password does): the clear password
    # then never travels to the server nor shows in its statement log.
    driver = c.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise SupersetError(f"the warehouse connection is {type(driver).__name__}, not psycopg's")
    verifier = driver.pgconn.encrypt_password(password.encode(), READER_ROLE.encode()).decode()
    alter: str = c.execute(
        sa.text("select format('alter role %I with login password %L', cast(:r as text), cast(:v as text))"),
        {"r": READER_ROLE, "v": verifier},
    ).scalar_one()
    c.exec_driver_sql(alter)


def _grant_reader(c: sa.Connection) -> None:
    # Belt and braces: even a grant given by mistake later cannot be used to write.
    c.exec_driver_sql(f"alter role {READER_ROLE} set default_transaction_read_only = on")
    dbname: str = c.execute(sa.text("select format('%I', current_database())")).scalar_one()
    c.exec_driver_sql(f"grant connect on database {dbname} to {READER_ROLE}")
    c.exec_driver_sql(f"grant usage on schema {READER_SCHEMA} to {READER_ROLE}")
    c.exec_driver_sql(f"grant select on all tables in schema {READER_SCHEMA} to {READER_ROLE}")
    # For tables the warehouse user (dbt) creates later in marts.
    c.exec_driver_sql(f"alter default privileges in schema {READER_SCHEMA} grant select on tables to {READER_ROLE}")


def ensure_reader_role(settings: Settings) -> warehouse.Conn:
    """Create/refresh the login role ``edp_reader``: SELECT on ``marts``, nothing else.

    The role is cluster-wide; its grants are per database. Default privileges
    are set for the warehouse user, i.e. the one dbt builds the marts with.
    """
    reader = reader_connection(settings)
    warehouse.ensure_schemas(settings)
    try:
        with warehouse.engine(settings).begin() as c:
            c.execute(sa.text(_CREATE_ROLE))
            _set_reader_password(c, reader.password)
            _grant_reader(c)
    except sa.exc.DBAPIError as exc:
        # `from None`: the chained error would quote the statement with the password hash.
        raise SupersetError(
            f"could not set up the read-only role {READER_ROLE} (the warehouse user needs CREATEROLE): "
            f"{str(exc.orig).strip()}"
        ) from None
    return reader


def reader_superset_uri(settings: Settings, masked: bool = True) -> str:
    """The URI Superset gets (psycopg2, the reader role); password masked unless asked."""
    conn = reader_connection(settings)
    if masked:
        conn = warehouse.Conn(conn.host, conn.port, conn.user, PASSWORD_MASK, conn.dbname)
    return conn.sqlalchemy_url(driver="psycopg2").render_as_string(hide_password=False)
