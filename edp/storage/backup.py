"""Backup and restore of the platform's state: warehouse, lake and generated secrets (备份与恢复).

A backup is a folder (mode 0700)::

    <dir>/manifest.json     what is in it, with the SHA-256 and size of every file
    <dir>/warehouse.dump    pg_dump custom format of the warehouse database (every schema:
                            raw, staging, marts, ops, audit, sync — the exchange ledger)
    <dir>/lake/<key>        every object of the lake (file:// or s3://), byte for byte
    <dir>/secrets/<name>    the secrets the platform generated in $EDP_HOME/secrets (0600)

Secrets configured by the deployment (``EDP_PII_KEY``, ``EDP_ANSHAN_APP_KEY`` …, the
warehouse password) live in the deployment's secret store, not in ``$EDP_HOME``: the
backup names which were set and keeps a fingerprint of ``EDP_PII_KEY`` (an HMAC of a
fixed text, not the key), so a restore can tell that the key configured now is not
the one the pseudonyms were made with. No secret value is ever printed.

Restore checks every file against the manifest before it changes anything, refuses a
target that holds data unless ``force``, restores the warehouse into a fresh database
and only then swaps it in by renaming (the database it replaces is kept under a printed
name until the operator drops it), then writes the lake and the secrets.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from edp.errors import ConfigError, EdpError, ToolFailed
from edp.settings import Settings
from edp.storage.lake import Lake, open_lake
from edp.storage.warehouse import EMBEDDED_DB, Conn, is_embedded

log = logging.getLogger(__name__)

FORMAT = "edp-backup/1"
MANIFEST = "manifest.json"
DUMP = "warehouse.dump"
# Settings whose value is a secret the deployment configures (names only go into the manifest).
CONFIGURED_SECRETS = (
    "pii_key",
    "anshan_app_key",
    "anshan_app_secret",
    "warehouse_url",
    "s3_access_key",
    "s3_secret_key",
    "airflow_metadata_url",
    "alert_smtp_password",
)
_FINGERPRINT_TEXT = b"edp backup: EDP_PII_KEY fingerprint"
_CHUNK = 1 << 20


class BackupError(EdpError):
    """A backup could not be made or restored as asked (the message says why and what to do)."""


class RestoreRefused(BackupError):
    """The restore target holds data and ``--force`` was not given."""

    exit_code = 2  # as ConfigError: the operator must say --force (docs/operations.md, exit codes)


@dataclass
class BackupResult:
    folder: Path
    warehouse_bytes: int
    lake_objects: int
    lake_bytes: int
    secrets: list[str]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "warehouse_bytes": self.warehouse_bytes,
            "lake_objects": self.lake_objects,
            "lake_bytes": self.lake_bytes,
            "secrets": self.secrets,
            "notes": self.notes,
        }


# ---------------------------------------------------------------- helpers


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(src: Path, dest: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        for chunk in iter(lambda: fin.read(_CHUNK), b""):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def pii_key_fingerprint(key: str) -> str:
    """A short, non-reversible tag of the key: equal keys give equal tags."""
    return hmac.new(key.encode("utf-8"), _FINGERPRINT_TEXT, hashlib.sha256).hexdigest()[:16]


def _secrets_dir(settings: Settings) -> Path:
    return settings.home / "secrets"


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise BackupError(f"refusing lake key {key!r}: not a plain relative path")
    return key


# ---------------------------------------------------------------- PostgreSQL tools


def server_conn(settings: Settings) -> Conn:
    """The warehouse's connection parts, without creating or migrating anything (unlike ``connection_info``).

    On the embedded default the server of ``$EDP_HOME/pg`` is started if it is not running.
    """
    if not is_embedded(settings):
        from edp.storage.warehouse import _parse_conn

        assert settings.warehouse_url is not None
        return _parse_conn(settings.warehouse_url.get_secret_value())
    import pgserver
    from sqlalchemy.engine import make_url

    server = pgserver.get_server(settings.home_subdir("pg"), cleanup_mode=None)
    base = make_url(server.get_uri())
    port = base.query.get("port")
    return Conn(str(base.query.get("host")), int(str(port)) if port else 5432, "postgres", "", EMBEDDED_DB)


def _admin_engine(conn: Conn, dbname: str = "postgres") -> sa.Engine:
    parts = Conn(conn.host, conn.port, conn.user, conn.password, dbname)
    return sa.create_engine(parts.sqlalchemy_url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def _server_major(conn: Conn) -> int:
    eng = _admin_engine(conn)
    try:
        with eng.connect() as c:
            return int(str(c.execute(sa.text("show server_version_num")).scalar())) // 10000
    except sa.exc.OperationalError as exc:
        raise ConfigError(
            f"warehouse server at {conn.host}:{conn.port} (user {conn.user}) did not answer: "
            f"{type(exc.orig).__name__}; check EDP_WAREHOUSE_URL and that the server runs"
        ) from None
    finally:
        eng.dispose()


def _tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else 0


def pg_tool(settings: Settings, name: str, server_major: int) -> str:
    """``pg_dump`` / ``pg_restore`` able to work with the server: the embedded server's own from the
    ``pgserver`` wheel, else the server's major version's (Debian's ``/usr/lib/postgresql/<N>/bin``),
    else the one on ``PATH``, which must not be older than the server."""
    candidates: list[str] = []
    if is_embedded(settings):
        import pgserver

        candidates.append(str(Path(pgserver.__file__).parent / "pginstall" / "bin" / name))
    candidates.append(f"/usr/lib/postgresql/{server_major}/bin/{name}")
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        if os.access(candidate, os.X_OK) and _tool_major(candidate) >= server_major:
            return candidate
    raise ConfigError(
        f"no {name} of PostgreSQL {server_major} or newer found (looked in: {', '.join(candidates)}); "
        f"install the PostgreSQL {server_major} client tools (Debian: postgresql-client-{server_major})"
    )


def _libpq_env(conn: Conn, dbname: str) -> dict[str, str]:
    """The connection as libpq variables: the password never appears on a command line."""
    # Other libpq variables of the environment (PGSSLMODE, PGPASSFILE …) are kept.
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    env.update(PGHOST=conn.host, PGPORT=str(conn.port), PGUSER=conn.user, PGDATABASE=dbname)
    if conn.password:
        env["PGPASSWORD"] = conn.password
    return env


def _run_tool(argv: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        # pg_dump's and pg_restore's messages name objects, never the password (it is in the environment).
        detail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise ToolFailed(f"{what} failed (exit {done.returncode}): {detail}")


# ---------------------------------------------------------------- create


def create_backup(settings: Settings, folder: Path) -> BackupResult:
    """Write a backup of the warehouse, the lake and the generated secrets to ``folder`` (new or empty)."""
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: give a new folder for the backup")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    conn = server_conn(settings)
    major = _server_major(conn)
    pg_dump = pg_tool(settings, "pg_dump", major)
    dump = folder / DUMP
    log.info("backup: dumping database %s with %s", conn.dbname, pg_dump)
    # Custom format, compressed; owners and grants are left to the restoring role and `edp superset provision`.
    _run_tool(
        [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"],
        _libpq_env(conn, conn.dbname),
        "pg_dump",
    )
    dump.chmod(0o600)
    files: dict[str, dict[str, Any]] = {DUMP: {"size": dump.stat().st_size, "sha256": _sha256_file(dump)}}

    lake = open_lake(settings)
    objects = backup_lake(lake, folder / "lake")
    secrets = _backup_secrets(settings, folder / "secrets", files)
    configured = [name for name in CONFIGURED_SECRETS if getattr(settings, name) is not None]
    notes = []
    if configured:
        notes.append(
            "configured secrets are not in the backup, keep them in your secret store: "
            + ", ".join(f"EDP_{n.upper()}" for n in configured)
        )
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "warehouse": {"database": conn.dbname, "server_major": major, "embedded": is_embedded(settings)},
        "lake": {"uri": lake.uri, "objects": objects},
        "secrets": {
            "generated": secrets,
            "configured": configured,
            "pii_key_fingerprint": (
                pii_key_fingerprint(settings.pii_key.get_secret_value()) if settings.pii_key else None
            ),
        },
        "files": files,
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    path.chmod(0o600)
    return BackupResult(
        folder=folder,
        warehouse_bytes=files[DUMP]["size"],
        lake_objects=len(objects),
        lake_bytes=sum(o["size"] for o in objects),
        secrets=sorted(secrets),
        notes=notes,
    )


def lake_manifest(lake: Lake) -> list[dict[str, Any]]:
    """Every object of the lake: key, size, SHA-256 (sorted by key)."""
    result = []
    for key in sorted(lake.list()):
        digest = hashlib.sha256()
        size = 0
        with lake.local_copy(key) as path, open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
        result.append({"key": key, "size": size, "sha256": digest.hexdigest()})
    return result


def backup_lake(lake: Lake, into: Path) -> list[dict[str, Any]]:
    """Copy every object of ``lake`` to ``into/<key>``; their keys, sizes and SHA-256."""
    objects = []
    for key in sorted(lake.list()):
        dest = into / _safe_key(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with lake.local_copy(key) as src:
            size, sha = _copy_hashing(src, dest)
        objects.append({"key": key, "size": size, "sha256": sha})
    log.info("backup: %d lake objects from %s", len(objects), lake.uri)
    return objects


def _backup_secrets(settings: Settings, into: Path, files: dict[str, dict[str, Any]]) -> list[str]:
    source = _secrets_dir(settings)
    names = sorted(p.name for p in source.iterdir() if p.is_file()) if source.is_dir() else []
    into.mkdir(mode=0o700)
    for name in names:
        dest = into / name
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write((source / name).read_bytes())
        files[f"secrets/{name}"] = {"size": dest.stat().st_size, "sha256": _sha256_file(dest)}
    return names


# ---------------------------------------------------------------- restore


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} holds no {MANIFEST}: not a backup made by `edp backup create`")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r} (this release reads {FORMAT})")
    return manifest


def verify_backup(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest names has its size and SHA-256; nothing is changed before this passes."""
    expected = dict(manifest["files"])
    for obj in manifest["lake"]["objects"]:
        expected[f"lake/{_safe_key(obj['key'])}"] = obj
    for rel, meta in sorted(expected.items()):
        path = folder / rel
        if not path.is_file():
            raise BackupError(f"backup damaged: {rel} is missing from {folder}")
        if path.stat().st_size != meta["size"] or _sha256_file(path) != meta["sha256"]:
            raise BackupError(f"backup damaged: {rel} does not match its SHA-256 in {MANIFEST}")


def _database_exists(admin: sa.Engine, name: str) -> bool:
    with admin.connect() as c:
        return bool(c.execute(sa.text("select 1 from pg_database where datname = :n"), {"n": name}).scalar())


def _database_holds_data(conn: Conn) -> bool:
    """Any row in any table but the migration history (a database `edp migrate` just made is empty)."""
    eng = _admin_engine(conn, conn.dbname)
    try:
        with eng.connect() as c:
            tables: list[str] = list(
                c.execute(
                    sa.text(
                        "select format('%I.%I', schemaname, tablename) from pg_tables where schemaname not in"
                        " ('pg_catalog', 'information_schema') and not (schemaname = 'ops'"
                        " and tablename = 'schema_migrations')"
                    )
                ).scalars()
            )
            return any(c.execute(sa.text(f"select exists (select 1 from {t})")).scalar() for t in tables)
    finally:
        eng.dispose()


@dataclass
class RestoreResult:
    database: str
    replaced_database: str | None
    lake_objects: int
    lake_deleted: int
    secrets: list[str]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "replaced_database_kept_as": self.replaced_database,
            "lake_objects": self.lake_objects,
            "lake_objects_deleted": self.lake_deleted,
            "secrets": self.secrets,
            "warnings": self.warnings,
        }


def restore_backup(settings: Settings, folder: Path, force: bool = False) -> RestoreResult:
    """Restore ``folder`` into the configured warehouse, lake and ``$EDP_HOME/secrets``."""
    manifest = read_manifest(folder)
    verify_backup(folder, manifest)
    conn = server_conn(settings)
    major = _server_major(conn)
    if major < int(manifest["warehouse"]["server_major"]):
        raise BackupError(
            f"the backup comes from PostgreSQL {manifest['warehouse']['server_major']}, this server is {major}: "
            "restore onto a server of that version or newer"
        )
    admin = _admin_engine(conn)
    lake = open_lake(settings)
    try:
        exists = _database_exists(admin, conn.dbname)
        busy = []
        if exists and _database_holds_data(conn):
            busy.append(f"database {conn.dbname} holds data")
        present = next(iter(lake.list()), None)
        if present is not None:
            busy.append(f"lake {lake.uri} holds objects")
        secrets_dir = _secrets_dir(settings)
        if secrets_dir.is_dir() and any(
            (secrets_dir / n).exists() and (secrets_dir / n).read_bytes() != (folder / "secrets" / n).read_bytes()
            for n in manifest["secrets"]["generated"]
        ):
            busy.append(f"{secrets_dir} holds other values of the backup's secrets")
        if busy and not force:
            raise RestoreRefused(
                "restore target is not empty (" + "; ".join(busy) + "): stop the platform (`edp down`) and "
                "rerun with --force to replace it"
            )
        replaced = _restore_database(settings, conn, admin, folder / DUMP, major, exists)
    finally:
        admin.dispose()
    restored, deleted = restore_lake(lake, folder / "lake", manifest["lake"]["objects"])
    secrets = _restore_secrets(settings, folder / "secrets", manifest["secrets"]["generated"])
    warnings = _key_warnings(settings, manifest)
    from edp.storage import warehouse

    # Engines made earlier in this process point at the database that was swapped out.
    warehouse._engine_for.cache_clear()
    return RestoreResult(conn.dbname, replaced, restored, deleted, secrets, warnings)


def _restore_database(
    settings: Settings, conn: Conn, admin: sa.Engine, dump: Path, major: int, exists: bool
) -> str | None:
    """pg_restore into a fresh database, then rename it into place; the replaced one is kept, renamed."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    fresh = f"{conn.dbname}__restoring_{stamp}"[:63]
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{fresh}" template template0'))
    pg_restore = pg_tool(settings, "pg_restore", major)
    log.info("restore: loading %s into the new database %s", dump.name, fresh)
    try:
        _run_tool(
            [
                pg_restore,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={fresh}",
                str(dump),
            ],
            _libpq_env(conn, fresh),
            "pg_restore",
        )
    except BaseException:
        with admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{fresh}"'))
        raise
    replaced = None
    with admin.connect() as c:
        if exists:
            replaced = f"{conn.dbname}__before_restore_{stamp}"[:63]
            try:
                c.execute(sa.text(f'alter database "{conn.dbname}" rename to "{replaced}"'))
            except sa.exc.DBAPIError:
                raise BackupError(
                    f"database {conn.dbname} is in use, so it cannot be swapped: stop the platform (`edp down`, "
                    f"Superset, Airflow) and rerun; the restored copy stays in database {fresh}"
                ) from None
        c.execute(sa.text(f'alter database "{fresh}" rename to "{conn.dbname}"'))
    return replaced


def restore_lake(lake: Lake, source: Path, objects: list[dict[str, Any]]) -> tuple[int, int]:
    """Make ``lake`` hold exactly ``objects`` from ``source``: (objects written, objects deleted)."""
    wanted = {o["key"] for o in objects}
    for obj in objects:
        lake.put_file(obj["key"], source / _safe_key(obj["key"]))
    extra = [key for key in lake.list() if key not in wanted]
    for key in extra:
        lake.delete(key)
    log.info("restore: %d lake objects to %s, %d not in the backup deleted", len(objects), lake.uri, len(extra))
    return len(objects), len(extra)


def _restore_secrets(settings: Settings, source: Path, names: list[str]) -> list[str]:
    folder = _secrets_dir(settings)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in names:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:  # mkstemp makes it 0600
            out.write((source / name).read_bytes())
        os.replace(tmp, folder / name)
    return sorted(names)


def _key_warnings(settings: Settings, manifest: dict[str, Any]) -> list[str]:
    warnings = []
    secrets = manifest["secrets"]
    before = secrets.get("pii_key_fingerprint")
    now = pii_key_fingerprint(settings.pii_key.get_secret_value()) if settings.pii_key else None
    if before != now:
        if before is None:
            what = "the backup used the generated key (secrets/pii_hmac_key), EDP_PII_KEY is set now"
        elif now is None:
            what = "the backup was made with EDP_PII_KEY set, it is not set now"
        else:
            what = "EDP_PII_KEY is not the key the backup was made with"
        warnings.append(f"{what}: new pseudonyms will not join the restored ones (docs/runbooks.md, key rotation)")
    missing = [n for n in secrets.get("configured", []) if getattr(settings, n) is None]
    if missing:
        warnings.append("configured when backed up, not set now: " + ", ".join(f"EDP_{n.upper()}" for n in missing))
    return warnings
