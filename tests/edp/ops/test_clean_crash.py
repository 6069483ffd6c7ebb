"""A killed command leaves nothing working behind it: its tools die with it, its queries are cancelled.

Given a command of ours killed with SIGKILL (no handler runs), when a moment passes, then the tool it
ran (dbt, a Superset or Airflow command) is gone, and so is its warehouse query, with the locks it held.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from edp.runtime.lifeline import die_with_parent, parent_death_signal_supported
from edp.runtime.processes import pid_alive
from edp.settings import Settings
from edp.storage import sessions
from edp.storage.warehouse import connection_info, engine

REPO = Path(__file__).resolve().parents[3]
SOCKET_DIR = "/var/run/postgresql"

PARENT = """
import subprocess, sys, time
from edp.runtime.lifeline import die_with_parent
keep = sys.argv[1] == "keep"
child = subprocess.Popen(["sleep", "300"], preexec_fn=None if keep else die_with_parent())
print(child.pid, flush=True)
time.sleep(300)
"""


def _wait_gone(pid: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def _child_of_killed_parent(mode: str) -> int:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True, cwd=REPO, env=dict(os.environ)
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    return child


@pytest.mark.skipif(not parent_death_signal_supported(), reason="the parent-death signal is Linux's")
def test_a_tool_dies_with_the_command_that_started_it() -> None:
    child = _child_of_killed_parent("die")
    assert _wait_gone(child), f"child {child} outlived its SIGKILLed parent"


@pytest.mark.skipif(not parent_death_signal_supported(), reason="the parent-death signal is Linux's")
def test_without_the_lifeline_a_child_outlives_its_parent() -> None:
    # The control: what the platform did before, so the test above proves something.
    child = _child_of_killed_parent("keep")
    try:
        assert not _wait_gone(child, timeout=1.0)
    finally:
        os.kill(child, signal.SIGKILL)


def test_die_with_parent_is_a_callable_preexec_on_linux() -> None:
    preexec = die_with_parent()
    assert (preexec is not None) == sys.platform.startswith("linux")


def test_application_name_says_command_and_pid() -> None:
    sessions.set_command("transform")
    try:
        assert sessions.application_name() == f"edp:transform:{os.getpid()}"
        assert sessions.application_name("x" * 100).startswith("edp:xxx")
        assert len(sessions.application_name("x" * 100)) == sessions.MAX_APPLICATION_NAME
    finally:
        sessions._command = None


def test_the_client_check_is_left_out_for_servers_before_14() -> None:
    s = Settings()
    assert "client_connection_check_interval=5000" in sessions.dead_client_options(s, 160002)
    assert "client_connection_check_interval" not in sessions.dead_client_options(s, 130011)
    assert "idle_in_transaction_session_timeout=900000" in sessions.dead_client_options(s, 130011)


HOLDER = """
import sys
import sqlalchemy as sa
from edp.settings import get_settings
from edp.storage import sessions
from edp.storage.warehouse import engine
sessions.set_command("probe")
with engine(get_settings()).begin() as c:
    c.execute(sa.text("lock table public.crash_probe in access exclusive mode"))
    print("locked", flush=True)
    c.execute(sa.text("select pg_sleep(300)"))
"""


def _holder_env(url: str | None, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDP_")}
    env["EDP_HOME"] = str(home)
    if url:
        env["EDP_WAREHOUSE_URL"] = url
    return env


def _socket_url(url: str) -> str:
    parts = sa.make_url(url)
    return f"postgresql://{parts.username}@/{parts.database}?host={SOCKET_DIR}&port={parts.port or 5432}"


@pytest.mark.integration
@pytest.mark.timeout(600)
@pytest.mark.parametrize("transport", ["tcp", "socket"])
def test_a_killed_clients_query_is_cancelled_and_its_lock_freed(
    settings: Settings, warehouse_url: str | None, transport: str
) -> None:
    if transport == "socket":
        if warehouse_url is None or not Path(SOCKET_DIR).is_dir():
            pytest.skip("no Unix socket of the test server here (the embedded pgserver run covers sockets)")
        url: str | None = _socket_url(warehouse_url)
    else:
        url = warehouse_url
    eng = engine(settings)
    with eng.begin() as c:
        c.execute(sa.text("create table if not exists public.crash_probe (id int)"))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True, cwd=REPO, env=_holder_env(url, settings.home)
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    name = f"edp:probe:{holder.pid}"
    with eng.connect() as c:
        seen = c.execute(
            sa.text("select setting from pg_settings where name = 'client_connection_check_interval'")
        ).scalar()
        running = c.execute(
            sa.text("select count(*) from pg_stat_activity where application_name = :n and state = 'active'"),
            {"n": name},
        ).scalar()
    assert running == 1, f"the holder's session is not named {name}"
    assert seen is not None
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    # Cancelled within a few check intervals (5 s): long before pg_sleep(300) would end.
    deadline = time.monotonic() + 60
    left = 1
    while left and time.monotonic() < deadline:
        with eng.connect() as c:
            left = c.execute(
                sa.text("select count(*) from pg_stat_activity where application_name = :n"), {"n": name}
            ).scalar()
        time.sleep(0.5)
    assert left == 0, f"{name} still runs after its client was killed"
    with eng.begin() as c:
        c.execute(sa.text("set local lock_timeout = '5s'"))
        c.execute(sa.text("lock table public.crash_probe in access exclusive mode"))


@pytest.mark.integration
def test_a_platform_session_is_named_and_protected_without_superuser(
    settings: Settings, pg_admin: sa.Engine | None
) -> None:
    conn = connection_info(settings)
    role = f"crash_probe_{uuid.uuid4().hex[:8]}"
    if pg_admin is not None:  # a plain role on the test server: the settings need no superuser
        with pg_admin.connect() as c:
            c.execute(sa.text(f"create role {role} login nosuperuser"))
        conn = type(conn)(conn.host, conn.port, role, "", conn.dbname)
    try:
        params = sessions.session_parameters(settings, conn, "check")
        eng = sa.create_engine(conn.sqlalchemy_url(), connect_args=params, poolclass=sa.NullPool)
        with eng.connect() as c:
            got = dict(
                c.execute(
                    sa.text(
                        "select name, setting from pg_settings where name in ('application_name', "
                        "'client_connection_check_interval', 'idle_in_transaction_session_timeout')"
                    )
                ).all()
            )
            assert not c.execute(sa.text("select rolsuper from pg_roles where rolname = current_user")).scalar() or (
                pg_admin is None
            )
        eng.dispose()
        assert got["application_name"] == f"edp:check:{os.getpid()}"
        assert got["client_connection_check_interval"] == "5000"
        assert got["idle_in_transaction_session_timeout"] == "900000"
    finally:
        if pg_admin is not None:
            with pg_admin.connect() as c:
                c.execute(sa.text(f"drop role if exists {role}"))


@pytest.mark.parametrize(
    ("until", "message"), [("2026-07-15T12:00", "has no offset"), ("yesterday", "not an ISO 8601 moment")]
)
def test_ingest_until_wants_a_moment_with_its_offset(home_settings: Settings, until: str, message: str) -> None:
    from typer.testing import CliRunner

    from edp.cli import app

    result = CliRunner().invoke(app, ["ingest", "weather", "--until", until])
    assert result.exit_code == 2
    assert message in result.output
