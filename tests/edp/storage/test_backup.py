"""Backup and restore (docs/runbooks.md): back up, destroy, restore through the real CLI; marts, the
exchange ledger, the lake and the secrets come back equal, and a second `edp sync` finds nothing to send."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from standins.server import RunningServer

from edp.exchange.sync import sync
from edp.secrets import generated_secret
from edp.settings import Settings
from edp.storage.backup import backup_lake, lake_manifest, restore_lake
from edp.storage.lake import LocalLake, open_lake
from edp.storage.warehouse import connection_info, engine
from tests.support.s3server import s3_server
from tests.support.warehouse import hazard_event_mart

pytestmark = pytest.mark.integration

LAKE_OBJECTS = {
    "landing/weather/observations/2026-11-28/b1/page-0001.json.gz": b"\x1f\x8b" + bytes(range(256)) * 40,
    "normalised/weather/observations/2026-11-28/b1/part-0.parquet": b"PAR1" + os.urandom(5000),
    "manifests/weather/b1.json": json.dumps({"batch": "b1", "说明": "海城"}, ensure_ascii=False).encode(),
    "quality/docs/index.html": b"<html>docs</html>",
}


def _snapshot(s: Settings) -> dict[str, tuple[int, str]]:
    """Each table of marts, sync (the exchange ledger), ops and audit: row count, the MD5 of its ordered rows."""
    with engine(s).connect() as c:
        tables: list[str] = list(
            c.execute(
                sa.text(
                    "select format('%I.%I', schemaname, tablename) from pg_tables"
                    " where schemaname in ('marts', 'sync', 'ops', 'audit') order by 1"
                )
            ).scalars()
        )
        result = {}
        for t in tables:
            row = c.execute(
                sa.text(f"select count(*), md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from {t} x")
            ).one()
            result[t] = (row[0], row[1])
    return result


def _secrets(s: Settings) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((s.home / "secrets").iterdir())}


def test_back_up_destroy_restore_gives_back_marts_ledger_lake_and_secrets(
    settings: Settings,
    anshan_city: Callable[..., RunningServer],
    pg_admin: sa.Engine | None,
    tmp_path: Path,
) -> None:
    if pg_admin is None:
        pytest.skip("needs the PostgreSQL server of tests/support/databases.py (the test drops its database)")
    anshan_city()
    s = Settings()  # now pointed at the exchange stand-in
    generated_secret(s, "pii_hmac_key", nbytes=32)
    hazard_event_mart(s, 1200)
    (first,) = sync(s, ["hazard_events"])
    assert first.batches_packed == 2
    with engine(s).begin() as c:
        # A changed and a deleted row: the ledger gets second versions.
        c.execute(sa.text("update marts.fct_hazard_event set description = '更正' where event_id = 'weather-rain-1'"))
        c.execute(sa.text("delete from marts.fct_hazard_event where event_id = 'weather-rain-2'"))
    sync(s, ["hazard_events"])
    lake = open_lake(s)
    for key, data in LAKE_OBJECTS.items():
        lake.put_bytes(key, data)
    before = _snapshot(s)
    assert before["sync.outbox"][0] == 1202 and before["marts.fct_hazard_event"][0] == 1199
    assert before["sync.receipts"][0] == 3
    lake_before = lake_manifest(lake)
    secrets_before = _secrets(s)
    assert {"anshan_app_key", "anshan_app_secret", "pii_hmac_key"} <= set(secrets_before)

    env = {**os.environ, "EDP_HOME": str(s.home)}
    edp = str(Path(sys.executable).with_name("edp"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([edp, *args], env=env, capture_output=True, text=True, timeout=300)

    def no_secret_in(done: subprocess.CompletedProcess[str]) -> None:
        for value in secrets_before.values():
            assert value.decode() not in done.stdout + done.stderr

    backup = tmp_path / "backup"
    made = run("backup", "create", str(backup))
    assert made.returncode == 0, made.stderr[-2000:]
    no_secret_in(made)
    summary = json.loads(made.stdout)
    assert summary["lake_objects"] == len(LAKE_OBJECTS) and summary["secrets"] == sorted(secrets_before)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (backup / "secrets").iterdir()} == {0o600}
    assert stat.S_IMODE((backup / "warehouse.dump").stat().st_mode) == 0o600
    # A second backup into the same folder is refused: nothing is overwritten.
    assert run("backup", "create", str(backup)).returncode != 0

    # Destroy: the warehouse database, the lake, the secrets.
    dbname = connection_info(s).dbname
    engine(s).dispose()
    with pg_admin.connect() as c:
        c.execute(sa.text(f'drop database "{dbname}" with (force)'))
    shutil.rmtree(s.home / "lake")
    shutil.rmtree(s.home / "secrets")

    restored = run("backup", "restore", str(backup))
    assert restored.returncode == 0, restored.stderr[-2000:]
    no_secret_in(restored)
    assert json.loads(restored.stdout)["replaced_database_kept_as"] is None
    assert _snapshot(s) == before
    assert lake_manifest(open_lake(s)) == lake_before
    assert _secrets(s) == secrets_before
    assert stat.S_IMODE((s.home / "secrets" / "pii_hmac_key").stat().st_mode) == 0o600

    # The restored platform goes on where it stopped: the same credentials, nothing left to send.
    (again,) = sync(s, ["hazard_events"])
    assert again.batches_packed == 0 and again.diff["upsert"] == 0 and again.diff["unchanged"] == 1199
    now = _snapshot(s)
    engine(s).dispose()

    # A target holding data is refused without --force, and a damaged backup before anything changes.
    refused = run("backup", "restore", str(backup))
    assert refused.returncode == 2 and "not empty" in refused.stderr and "--force" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) <= 2
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    key = next(iter(LAKE_OBJECTS))
    (damaged / "lake" / key).write_bytes(b"tampered")
    broken = run("backup", "restore", "--force", str(damaged))
    assert broken.returncode != 0 and "damaged" in broken.stderr and key in broken.stderr
    assert _snapshot(s) == now

    # --force: a fresh database is swapped in by rename; the replaced one is kept under the printed name.
    open_lake(s).put_bytes("landing/extra/not-in-backup.bin", b"x")
    engine(s).dispose()  # the swap renames the database: nobody may be connected
    forced = run("backup", "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr[-2000:]
    kept = json.loads(forced.stdout)["replaced_database_kept_as"]
    try:
        assert kept != dbname
        assert kept and kept.startswith(f"{dbname}__before_restore_")
        assert json.loads(forced.stdout)["lake_objects_deleted"] == 1
        assert _snapshot(s) == before
        assert lake_manifest(open_lake(s)) == lake_before
    finally:
        engine(s).dispose()
        with pg_admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{kept}" with (force)'))


def test_lake_copy_goes_from_s3_to_a_folder_and_back_to_s3_or_a_file_lake(tmp_path: Path) -> None:
    """The lake part on MinIO's protocol (moto): every object back with its bytes, objects not in the backup
    deleted; the same copy restores into a file:// lake (a move between kinds of lake)."""
    with s3_server() as endpoint:
        s3 = open_lake(
            Settings(
                home=tmp_path / "home",
                lake_url="s3://edp-lake/county",
                s3_endpoint=endpoint,
                s3_access_key="testing",
                s3_secret_key="testing",
            )
        )
        for key, data in LAKE_OBJECTS.items():
            s3.put_bytes(key, data)
        before = lake_manifest(s3)
        objects = backup_lake(s3, tmp_path / "copy")
        assert objects == before and len(objects) == len(LAKE_OBJECTS)
        for key in list(s3.list()):
            if key.startswith("landing/"):
                s3.delete(key)
            else:
                s3.put_bytes(key, b"overwritten")
        s3.put_bytes("landing/extra/new.bin", b"x")
        assert restore_lake(s3, tmp_path / "copy", objects) == (len(LAKE_OBJECTS), 1)
        assert lake_manifest(s3) == before
    local = LocalLake(tmp_path / "file-lake")
    restore_lake(local, tmp_path / "copy", objects)
    assert lake_manifest(local) == before
