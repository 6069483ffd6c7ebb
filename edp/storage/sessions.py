"""How the platform's warehouse sessions introduce and protect themselves.

Every session says whose it is (``application_name`` ``edp:<command>:<pid>``, seen in
``pg_stat_activity``) and carries settings that let PostgreSQL clean up after a client that died:

- ``client_connection_check_interval`` (PostgreSQL 14+, Linux servers): while a query runs, the
  server looks every few seconds whether its client is still there and cancels the query when it
  is not. Without it a SIGKILLed ``edp load`` leaves its ``insert`` running to the end, holding the
  dataset's locks, and the rerun waits for it.
- ``idle_in_transaction_session_timeout``: a client that hangs (not dies) inside a transaction
  loses it after a while instead of holding its locks for ever.
- ``tcp_keepalives_*`` (server side) and libpq's ``keepalives*`` (client side): over TCP, a peer
  that vanished without closing (a host gone, a cut network) is noticed in about a minute. On a Unix
  socket (the embedded pgserver) PostgreSQL ignores them; a dead process closes its socket there.

All are user-settable (``context = user`` in ``pg_settings``), so no superuser is needed: they go
into the session's startup packet (libpq ``options``). ``lock_timeout`` is deliberately not set
for every session: some waits are the design (two syncs queue on one target's advisory lock).
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from edp.settings import Settings
    from edp.storage.warehouse import Conn

APPLICATION_PREFIX = "edp"
# PostgreSQL keeps the first 63 bytes of an application_name (NAMEDATALEN - 1).
MAX_APPLICATION_NAME = 63
# The first server version with client_connection_check_interval.
CHECK_INTERVAL_SINCE = 140000

_command: str | None = None


def set_command(name: str) -> None:
    """Name this process's sessions after ``name`` (the CLI's subcommand: ``load``, ``transform``...)."""
    global _command
    _command = name


def command_name() -> str:
    """What this process is: the CLI subcommand it runs, else its program's name (``airflow``, ``pytest``)."""
    return _command or Path(sys.argv[0] or "python").name or "python"


def application_name(command: str | None = None) -> str:
    """``edp:<command>:<pid>``: which command of ours a session belongs to, and which process to look for."""
    return f"{APPLICATION_PREFIX}:{command or command_name()}:{os.getpid()}"[:MAX_APPLICATION_NAME]


def dead_client_options(settings: Settings, server_version: int | None = None) -> str:
    """The ``-c name=value`` settings of every platform session (libpq ``options`` / ``PGOPTIONS``).

    ``server_version`` (``server_version_num``) below 14 leaves out the client check, which such a
    server would refuse at connect time; None means 14 or later.
    """
    values = {
        "idle_in_transaction_session_timeout": _ms(settings.warehouse_idle_in_transaction_seconds),
        "tcp_keepalives_idle": str(int(settings.warehouse_keepalive_idle_seconds)),
        "tcp_keepalives_interval": "10",
        "tcp_keepalives_count": "6",
    }
    if server_version is None or server_version >= CHECK_INTERVAL_SINCE:
        values["client_connection_check_interval"] = _ms(settings.warehouse_client_check_seconds)
    return " ".join(f"-c {name}={value}" for name, value in values.items())


def libpq_keepalives(settings: Settings) -> dict[str, str]:
    """Client-side TCP keepalives (libpq parameters): this process notices a server that vanished."""
    return {
        "keepalives": "1",
        "keepalives_idle": str(int(settings.warehouse_keepalive_idle_seconds)),
        "keepalives_interval": "10",
        "keepalives_count": "6",
    }


def session_parameters(settings: Settings, conn: Conn, command: str | None = None) -> dict[str, str]:
    """libpq connection parameters of a platform session on ``conn``: name, settings, keepalives."""
    params = {
        "application_name": application_name(command),
        "options": dead_client_options(settings, server_version(conn)),
    }
    if not conn.is_socket:
        params.update(libpq_keepalives(settings))
    return params


def server_version(conn: Conn) -> int | None:
    """``server_version_num`` of ``conn``'s server (asked once a process), None if it cannot be asked."""
    return _server_version(conn.host, conn.port, conn.user, conn.password, conn.dbname)


@lru_cache(maxsize=8)
def _server_version(host: str, port: int, user: str, password: str, dbname: str) -> int | None:
    import psycopg

    try:
        with psycopg.connect(
            host=host,
            port=port,
            user=user,
            password=password or None,
            dbname=dbname,
            connect_timeout=10,
            application_name=application_name(),
        ) as c:
            return int(c.info.server_version)
    except psycopg.Error:
        # Connecting properly will fail with the real message; no settings then matter.
        return None


def _ms(seconds: float) -> str:
    return str(max(0, round(seconds * 1000)))
