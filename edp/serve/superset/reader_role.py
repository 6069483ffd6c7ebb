"""Step 4: the read-only warehouse role Superset connects as (SELECT on ``marts``, nothing else).

PostgreSQL gives PUBLIC (so every role) ``CONNECT`` and ``TEMP`` on every new
database. The reader loses both: ``TEMP`` on the warehouse is revoked from
PUBLIC (the warehouse user keeps it: dbt writes temp tables), and ``CONNECT``
is revoked from PUBLIC on the other databases that are the platform's to
restrict: on the embedded server every one of them (the server is ours
alone), on a configured server only Airflow's metadata database beside the
warehouse, when the warehouse user owns it. A shared server's other
databases belong to others, whose roles may rely on PUBLIC's grant: they are
not touched but named in a warning (their owners revoke CONNECT from PUBLIC,
or pg_hba.conf admits edp_reader to the warehouse only).
"""

from __future__ import annotations

import logging

import psycopg
import sqlalchemy as sa

from edp.secrets import generated_secret
from edp.serve.superset.errors import SupersetError
from edp.settings import Settings
from edp.storage import warehouse
from edp.storage.migrate import require_current

log = logging.getLogger(__name__)

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


def _revoke_temp(c: sa.Connection) -> None:
    dbname: str = c.execute(sa.text("select format('%I', current_database())")).scalar_one()
    c.exec_driver_sql(f"revoke temporary on database {dbname} from public, {READER_ROLE}")
    if not c.execute(sa.text("select has_database_privilege(current_user, current_database(), 'TEMP')")).scalar():
        c.exec_driver_sql(f"grant temporary on database {dbname} to current_user")
    if c.execute(sa.text("select has_database_privilege(:r, current_database(), 'TEMP')"), {"r": READER_ROLE}).scalar():
        raise SupersetError(
            f"{READER_ROLE} may still create temporary tables in {dbname}: the warehouse user must own the "
            "database to revoke TEMP from PUBLIC"
        )


def _other_databases(c: sa.Connection) -> list[tuple[str, bool]]:
    """The other databases the reader may connect to, and whether the warehouse user owns each."""
    rows = c.execute(
        sa.text(
            "select datname, datdba = (select oid from pg_roles where rolname = current_user) from pg_database "
            "where datallowconn and datname <> current_database() and has_database_privilege(:r, oid, 'CONNECT') "
            "order by datname"
        ),
        {"r": READER_ROLE},
    )
    return [(str(name), bool(ours)) for name, ours in rows]


def _revoke_connect_elsewhere(c: sa.Connection, settings: Settings) -> list[str]:
    """Revoke CONNECT where it is the platform's to revoke; the databases the reader still reaches."""
    embedded = warehouse.is_embedded(settings)
    platform = (
        {f"{warehouse.connection_info(settings).dbname}_airflow"} if settings.airflow_metadata_url is None else set()
    )
    left: list[str] = []
    for name, ours in _other_databases(c):
        if embedded or (ours and name in platform):
            quoted: str = c.execute(sa.text("select format('%I', cast(:d as text))"), {"d": name}).scalar_one()
            c.exec_driver_sql(f"revoke connect on database {quoted} from public, {READER_ROLE}")
        else:
            left.append(name)
    return left


def ensure_reader_role(settings: Settings) -> warehouse.Conn:
    """Create/refresh the login role ``edp_reader``: SELECT on ``marts``, nothing else.

    The role is cluster-wide; its grants are per database. Default privileges
    are set for the warehouse user, i.e. the one dbt builds the marts with.
    It may not create temporary tables, nor connect to the platform's other
    databases (see the module's note for a shared server).
    """
    reader = reader_connection(settings)
    require_current(settings)
    try:
        with warehouse.engine(settings).begin() as c:
            c.execute(sa.text(_CREATE_ROLE))
            _set_reader_password(c, reader.password)
            _grant_reader(c)
            _revoke_temp(c)
            left = _revoke_connect_elsewhere(c, settings)
    except sa.exc.DBAPIError as exc:
        # `from None`: the chained error would quote the statement with the password hash.
        raise SupersetError(
            f"could not set up the read-only role {READER_ROLE} (the warehouse user needs CREATEROLE): "
            f"{str(exc.orig).strip()}"
        ) from None
    if left:
        log.warning(
            "%s can still connect to %d other database(s) of this server (%s): PUBLIC has CONNECT there and "
            "they are not the platform's; their owners should `revoke connect on database … from public`, "
            "or pg_hba.conf admit %s to the warehouse only",
            READER_ROLE,
            len(left),
            ", ".join(left[:10]) + (" …" if len(left) > 10 else ""),
            READER_ROLE,
        )
    return reader


def reader_superset_uri(settings: Settings, masked: bool = True) -> str:
    """The URI Superset gets (psycopg2, the reader role); password masked unless asked."""
    conn = reader_connection(settings)
    if masked:
        conn = warehouse.Conn(conn.host, conn.port, conn.user, PASSWORD_MASK, conn.dbname)
    return conn.sqlalchemy_url(driver="psycopg2").render_as_string(hide_password=False)
