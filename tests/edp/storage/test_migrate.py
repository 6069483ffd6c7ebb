"""The warehouse schema's migrations: applied once, in order, recorded; a changed file refused; run-time code checks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from edp.cli import app
from edp.exchange.sync import status as sync_status
from edp.settings import Settings, reset_settings
from edp.storage import migrate
from tests.support.databases import PG_ADMIN_URL

pytestmark = pytest.mark.integration

# What the platform's code reads and writes, each made by some migration.
TABLES = (
    "ops.batches",
    "ops.source_state",
    "ops.quarantine",
    "ops.alerts",
    "audit.check_runs",
    "audit.expectation_results",
    "audit.credit_codes",
    "audit.checked_batches",
    "audit.check_scopes",
    "audit.dataset_status",
    "audit.quality_reports",
    "audit.quality_reports_latest",
    "sync.outbox",
    "sync.batches",
    "sync.receipts",
    "sync.feedback",
)


@pytest.fixture
def bare_url(pg_admin: sa.Engine | None) -> Iterator[str]:
    """An empty database, as an operator creates one for a new installation (not migrated)."""
    if pg_admin is None:
        pytest.skip("needs the shared PostgreSQL server")
    name = f"edp_bare_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    from edp.storage import warehouse

    warehouse._engine_for.cache_clear()
    with pg_admin.connect() as c:
        c.execute(sa.text(f'drop database if exists "{name}" with (force)'))


@pytest.fixture
def bare(bare_url: str, edp_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("EDP_HOME", str(edp_home))
    monkeypatch.setenv("EDP_WAREHOUSE_URL", bare_url.replace("postgresql+psycopg://", "postgresql://"))
    reset_settings()
    yield Settings()
    reset_settings()


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.NullPool)


def _missing(url: str) -> list[str]:
    with _engine(url).connect() as c:
        return [t for t in TABLES if c.execute(sa.text("select to_regclass(:t)"), {"t": t}).scalar() is None]


def test_files_are_numbered_without_gaps() -> None:
    found = migrate.available()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert len(found) >= 9 and migrate.required_version() == len(found)
    assert all(m.sql.strip() and len(m.checksum) == 64 for m in found)


def test_fresh_warehouse_is_migrated_once_and_recorded(bare_url: str) -> None:
    assert _missing(bare_url) == list(TABLES)
    first = migrate.migrate_url(bare_url)
    assert [m.version for m in first] == [m.version for m in migrate.available()]
    assert _missing(bare_url) == []
    assert migrate.migrate_url(bare_url) == []  # nothing left to apply
    history = migrate.applied(_engine(bare_url))
    assert [(a.version, a.name, a.checksum) for a in history] == [
        (m.version, m.name, m.checksum) for m in migrate.available()
    ]
    assert migrate.current_version(_engine(bare_url)) == migrate.required_version()


def test_warehouse_made_by_the_old_run_time_ddl_migrates_cleanly(bare_url: str) -> None:
    """Before migrations, ensure_* ran this same DDL on first use: those warehouses keep their rows."""
    eng = _engine(bare_url)
    with eng.begin() as c:
        for m in migrate.available():
            c.exec_driver_sql(m.sql)
        c.execute(
            sa.text(
                "insert into ops.batches (batch_id, source, dataset, status, manifest_key, extracted_at) "
                "values ('b1', 'weather', 'observations', 'loaded', 'k', now())"
            )
        )
    assert migrate.current_version(eng) == 0
    assert len(migrate.migrate_url(bare_url)) == migrate.required_version()
    with eng.connect() as c:
        assert c.execute(sa.text("select count(*) from ops.batches")).scalar() == 1


def test_changed_migration_is_refused(bare_url: str) -> None:
    migrate.migrate_url(bare_url)
    first, *rest = migrate.available()
    edited = replace(first, sql=first.sql + "\ncreate schema if not exists extra;", checksum="0" * 64)
    with pytest.raises(migrate.MigrationRefused, match=r"0001_schemas\.sql was changed after it was applied"):
        migrate.migrate_engine(_engine(bare_url), (edited, *rest))


def test_failed_migration_leaves_nothing_half_applied(bare_url: str) -> None:
    known = migrate.available()
    broken = migrate.Migration(len(known) + 1, "broken", "create table ops.half (id int); select 1/0;", "f" * 64)
    with pytest.raises(migrate.MigrationFailed) as caught:
        migrate.migrate_engine(_engine(bare_url), (*known, broken))
    assert str(caught.value).startswith(f"migration {broken.file_name} failed, nothing of it applied (warehouse at ")
    assert "DivisionByZero: division by zero" in str(caught.value)
    eng = _engine(bare_url)
    assert migrate.current_version(eng) == len(known)
    with eng.connect() as c:
        assert c.execute(sa.text("select to_regclass('ops.half')")).scalar() is None
    # The advisory lock was released: the next run goes through.
    assert migrate.migrate_url(bare_url) == []


def test_sql_is_sent_as_written(bare_url: str) -> None:
    """A migration's text is not a driver template: '%' and '%s' stay what they are."""
    known = migrate.available()
    percent = migrate.Migration(
        len(known) + 1,
        "percent",
        "create table ops.notes (note text);\ninsert into ops.notes values ('50% of %s');",
        "e" * 64,
    )
    assert migrate.migrate_engine(_engine(bare_url), (*known, percent))[-1] == percent
    with _engine(bare_url).connect() as c:
        assert c.execute(sa.text("select note from ops.notes")).scalar() == "50% of %s"


def test_concurrent_runs_queue_and_apply_each_migration_once(bare_url: str) -> None:
    results: list[list[migrate.Migration]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate.migrate_url(bare_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 0, migrate.required_version()]


def test_run_time_code_on_an_unmigrated_warehouse_fails_with_one_clear_line(bare: Settings) -> None:
    need = migrate.required_version()
    with pytest.raises(migrate.SchemaOutOfDate) as caught:
        sync_status(bare)
    assert str(caught.value) == f"warehouse schema at version 0, this code needs {need}: run `edp migrate`"
    assert caught.value.exit_code == 2  # a ConfigError
    assert _missing(str(bare.warehouse_url.get_secret_value()) if bare.warehouse_url else "") == list(TABLES)


def test_the_cli_on_an_unmigrated_warehouse_says_so_in_one_line(bare: Settings) -> None:
    edp = str(Path(sys.executable).with_name("edp"))
    run = subprocess.run([edp, "sync", "status"], capture_output=True, text=True, timeout=600, env=dict(os.environ))
    need = migrate.required_version()
    assert run.returncode == 2, run.stderr
    assert run.stderr == f"error: warehouse schema at version 0, this code needs {need}: run `edp migrate`\n"


def test_edp_migrate_prints_what_it_applied(bare: Settings) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["migrate"])
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert lines[0] == "applied 0001 schemas"
    assert lines[-1] == f"warehouse schema at version {migrate.required_version()}"
    again = runner.invoke(app, ["migrate"])
    assert again.exit_code == 0
    assert again.output.strip() == f"warehouse schema at version {migrate.required_version()} (nothing to apply)"
    assert sync_status(bare) == []  # run-time code now finds its tables
