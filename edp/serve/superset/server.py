"""Apache Superset for the platform: own venv, config, metadata DB, assets, server.

Superset 6 needs SQLAlchemy < 2, so it never runs inside the platform's venv:
every Superset action here is either a subprocess of ``infra/superset/.venv``
or an HTTP call to its web server.

``provision`` is the whole story, in order: environment, config, metadata DB
and admin user, read-only warehouse role, web server, assets. Each step is
idempotent, so provisioning again updates in place instead of duplicating.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import yaml

from edp.errors import ToolFailed
from edp.secrets import generated_secret
from edp.settings import REPO_ROOT, Settings
from edp.storage import warehouse

log = logging.getLogger(__name__)

SUPERSET_DIR = REPO_ROOT / "infra" / "superset"
VENV_DIR = SUPERSET_DIR / ".venv"
REQUIREMENTS = SUPERSET_DIR / "requirements.txt"
ASSETS_DIR = SUPERSET_DIR / "assets"

ADMIN_USER = "admin"
ADMIN_SECRET = "superset_admin_password"
SECRET_KEY_SECRET = "superset_secret_key"
READER_ROLE = "edp_reader"
READER_SECRET = "warehouse_reader_password"
READER_SCHEMA = "marts"

DATABASE_NAME = "海城应急数据仓库 (EDP warehouse)"
DASHBOARD_TITLE = "海城市气象逐时极值 Haicheng weather hourly extremes"
# The committed database YAML holds this instead of a URI (see render_bundle).
URI_PLACEHOLDER = "{{ EDP_WAREHOUSE_READER_URI }}"
# Superset's own password mask, for showing a URI without its password.
PASSWORD_MASK = "X" * 10

SERVER_START_TIMEOUT = 240.0
SERVER_STOP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 900.0
HTTP_TIMEOUT = 120.0
LOG_TAIL_LINES = 40

# GenericDataType.TEMPORAL in the chart-data response's ``coltypes``.
_TEMPORAL = 2


class SupersetError(ToolFailed):
    """Superset could not be set up, started or queried."""


# --------------------------------------------------------------------------- paths


@dataclass(frozen=True)
class SupersetPaths:
    """Everything Superset keeps for one EDP_HOME (never in git)."""

    home: Path

    @property
    def config(self) -> Path:
        return self.home / "superset_config.py"

    @property
    def metadata_db(self) -> Path:
        return self.home / "superset.db"

    @property
    def log(self) -> Path:
        return self.home / "superset.log"

    @property
    def pidfile(self) -> Path:
        return self.home / "superset.pid"

    @property
    def init_stamp(self) -> Path:
        return self.home / ".initialized"


def superset_paths(settings: Settings) -> SupersetPaths:
    home = settings.home_dir / "superset"
    # Private: the metadata DB holds the admin's password hash and encrypted DB passwords.
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return SupersetPaths(home=home)


def base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.superset_port}"


# --------------------------------------------------------------------------- subprocesses


def _log_tail(path: Path, start: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return "(no log)"
    with path.open("rb") as fh:
        fh.seek(start)
        text = fh.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "(log empty)"


def _run_logged(
    cmd: list[str], log_path: Path, env: Mapping[str, str] | None = None, timeout: float = COMMAND_TIMEOUT
) -> None:
    """Run ``cmd`` with its output appended to ``log_path``; raise with the tail on failure.

    Commands never carry secrets in their arguments (those go through the
    environment), so the command line itself is safe to log.
    """
    what = " ".join([Path(cmd[0]).name, *cmd[1:3]])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n".encode())
        fh.flush()
        start = fh.tell()
        try:
            # start_new_session: no controlling terminal, so no tool can prompt on it.
            proc = subprocess.run(
                cmd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                timeout=timeout,
                check=False,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise SupersetError(
                f"`{what}` timed out after {timeout:.0f}s; log {log_path}:\n{_log_tail(log_path, start)}"
            ) from exc
    if proc.returncode != 0:
        raise SupersetError(f"`{what}` failed (exit {proc.returncode}); log {log_path}:\n{_log_tail(log_path, start)}")


def _child_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for Superset processes: its venv, its config, none of ours.

    EDP_* variables may hold warehouse/S3 credentials Superset has no business
    seeing, and the platform venv's Python variables would confuse its interpreter.
    """
    paths = superset_paths(settings)
    dropped = ("EDP_", "PYTHON", "VIRTUAL_ENV", "SUPERSET_", "FLASK_", "UV_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        PATH=f"{VENV_DIR / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(VENV_DIR),
        SUPERSET_CONFIG_PATH=str(paths.config),
        SUPERSET_HOME=str(paths.home),
        FLASK_APP="superset.app:create_app()",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def _superset(settings: Settings, *args: str, extra_env: Mapping[str, str] | None = None) -> None:
    binary = VENV_DIR / "bin" / "superset"
    _run_logged([str(binary), *args], superset_paths(settings).log, _child_env(settings, extra_env))


# --------------------------------------------------------------------------- 1. environment


def _requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


@contextmanager
def _venv_lock(venv: Path) -> Iterator[None]:
    # Two provisions (two EDP_HOMEs, or tests) must not install into one venv at once.
    name = hashlib.sha256(str(venv.resolve()).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"edp-superset-venv-{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _uv() -> str:
    """uv on PATH, else the one `make` bootstrapped into .tools/."""
    found = shutil.which("uv")
    if found:
        return found
    bootstrapped = REPO_ROOT / ".tools" / "bin" / "uv"
    if bootstrapped.exists():
        return str(bootstrapped)
    raise SupersetError("uv is needed to build Superset's environment: run `make install`")


def ensure_environment(settings: Settings, venv: Path = VENV_DIR) -> Path:
    """Create or update Superset's own venv from the pinned requirements.

    Returns the ``superset`` executable. A stamp of requirements.txt in the venv
    keeps the common case to two stats and a read; when the pins change, the
    venv is brought up to them with ``uv pip install``.
    """
    binary = venv / "bin" / "superset"
    stamp = venv / ".edp-requirements.sha256"
    digest = _requirements_digest()
    if binary.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == digest:
        return binary
    log_path = superset_paths(settings).log
    # uv must not pick up the platform's venv from our environment.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    with _venv_lock(venv):
        if not (venv / "bin" / "python").exists():
            log.info("creating the Superset environment in %s (one-off, takes a few minutes)", venv)
            _run_logged([_uv(), "venv", "--python", "3.11", "--allow-existing", str(venv)], log_path, env)
        _run_logged(
            [_uv(), "pip", "install", "--python", str(venv / "bin" / "python"), "-r", str(REQUIREMENTS)],
            log_path,
            env,
        )
        if not binary.exists():
            raise SupersetError(f"installed {REQUIREMENTS} but {binary} is missing; log {log_path}")
        stamp.write_text(digest, encoding="utf-8")
    return binary


# --------------------------------------------------------------------------- 2. config

_CONFIG_TEMPLATE = '''\
"""Superset configuration for the Haicheng EDP, generated by edp.serve.superset.server.

Regenerated on every provision: edit edp/superset.py, not this file.
No secret is written here; they are read at start-up from EDP_HOME/secrets.
"""

from pathlib import Path

_SECRETS = Path({secrets_dir!r})


def _secret(name: str) -> str:
    return (_SECRETS / name).read_text(encoding="utf-8").strip()


SECRET_KEY = _secret({secret_key_name!r})
# The metadata DB is per EDP_HOME, like everything else the platform keeps.
SQLALCHEMY_DATABASE_URI = {metadata_uri!r}
DATA_DIR = {data_dir!r}

APP_NAME = "海城应急数据中台 Haicheng EDP"
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {{
    "zh": {{"flag": "cn", "name": "Chinese"}},
    "en": {{"flag": "us", "name": "English"}},
}}

# CSRF stays on: the platform's API client asks /api/v1/security/csrf_token/.
WTF_CSRF_ENABLED = True
# Charts read the warehouse live; dashboards are small, so no result cache.
CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
DATA_CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
# No feature flag is needed headless: asset import and chart data are core APIs.
FEATURE_FLAGS = {{}}
'''


def _secret_path(settings: Settings, name: str) -> Path:
    """Make sure the generated secret exists and return its file (layout of edp.secrets)."""
    generated_secret(settings, name)
    path = settings.home_dir / "secrets" / name
    if not path.is_file():
        raise SupersetError(f"secret {name!r} is not stored at {path}; edp.secrets changed its layout?")
    return path


def write_config(settings: Settings) -> Path:
    """Write ``$EDP_HOME/superset/superset_config.py`` (no secrets inside)."""
    paths = superset_paths(settings)
    secrets_dir = _secret_path(settings, SECRET_KEY_SECRET).parent
    text = _CONFIG_TEMPLATE.format(
        secrets_dir=str(secrets_dir),
        secret_key_name=SECRET_KEY_SECRET,
        metadata_uri=f"sqlite:///{paths.metadata_db}?check_same_thread=false",
        data_dir=str(paths.home),
    )
    if not paths.config.exists() or paths.config.read_text(encoding="utf-8") != text:
        paths.config.write_text(text, encoding="utf-8")
    return paths.config


# --------------------------------------------------------------------------- 3. metadata DB


def _init_fingerprint(settings: Settings) -> str:
    # Re-run the (slow) init whenever the Superset version or our config changes.
    digest = hashlib.sha256(_requirements_digest().encode())
    digest.update(superset_paths(settings).config.read_bytes())
    return digest.hexdigest()


def init_metadata(settings: Settings, force: bool = False) -> bool:
    """``superset db upgrade``, ``fab create-admin``, ``superset init``; skipped when done.

    Returns whether the commands ran.
    """
    paths = superset_paths(settings)
    fingerprint = _init_fingerprint(settings)
    done = paths.init_stamp.exists() and paths.init_stamp.read_text(encoding="utf-8") == fingerprint
    if done and paths.metadata_db.exists() and not force:
        return False
    _superset(settings, "db", "upgrade")
    # Password through the environment (click's auto envvar), never argv: argv is world-readable.
    _superset(
        settings,
        "fab",
        "create-admin",
        "--username",
        ADMIN_USER,
        "--firstname",
        "EDP",
        "--lastname",
        "Admin",
        "--email",
        "admin@edp.invalid",
        extra_env={"FLASK_FAB_CREATE_ADMIN_PASSWORD": generated_secret(settings, ADMIN_SECRET)},
    )
    _superset(settings, "init")
    paths.init_stamp.write_text(fingerprint, encoding="utf-8")
    return True


def reset_admin_password(settings: Settings) -> None:
    """Set the admin password back to the generated secret (e.g. after a secret reset)."""
    _superset(
        settings,
        "fab",
        "reset-password",
        "--username",
        ADMIN_USER,
        extra_env={"FLASK_FAB_RESET_PASSWORD_PASSWORD": generated_secret(settings, ADMIN_SECRET)},
    )


# --------------------------------------------------------------------------- 4. reader role

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
    pgconn = c.connection.dbapi_connection.pgconn  # type: ignore[union-attr]
    verifier = pgconn.encrypt_password(password.encode(), READER_ROLE.encode()).decode()
    alter = c.execute(
        sa.text("select format('alter role %I with login password %L', cast(:r as text), cast(:v as text))"),
        {"r": READER_ROLE, "v": verifier},
    ).scalar_one()
    c.exec_driver_sql(alter)


def _grant_reader(c: sa.Connection) -> None:
    # Belt and braces: even a grant given by mistake later cannot be used to write.
    c.exec_driver_sql(f"alter role {READER_ROLE} set default_transaction_read_only = on")
    dbname = c.execute(sa.text("select format('%I', current_database())")).scalar_one()
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


# --------------------------------------------------------------------------- 5. assets


def _asset_files(assets_dir: Path = ASSETS_DIR) -> list[Path]:
    return sorted(p for p in assets_dir.rglob("*.yaml") if p.is_file())


def asset_inventory(assets_dir: Path = ASSETS_DIR) -> dict[str, list[dict[str, str]]]:
    """``{"charts": [{"uuid", "title"}], "dashboards": [...], ...}`` from the YAML files."""
    title_keys = {"databases": "database_name", "datasets": "table_name", "charts": "slice_name"}
    inventory: dict[str, list[dict[str, str]]] = {}
    for path in _asset_files(assets_dir):
        kind = path.relative_to(assets_dir).parts[0]
        if kind == "metadata.yaml":
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        title = doc.get(title_keys.get(kind, "dashboard_title"), "")
        inventory.setdefault(kind, []).append({"uuid": str(doc["uuid"]), "title": title})
    return inventory


def _render_database(text: str, uri: str, source: Path) -> str:
    doc = yaml.safe_load(text)
    if doc.get("sqlalchemy_uri") != URI_PLACEHOLDER:
        # Refuse rather than import: a real URI in git is exactly what must not happen.
        raise SupersetError(f"{source}: sqlalchemy_uri must be the placeholder {URI_PLACEHOLDER!r}")
    doc["sqlalchemy_uri"] = uri
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def render_bundle(settings: Settings, assets_dir: Path = ASSETS_DIR) -> bytes:
    """The assets as an import ZIP, in memory, with this installation's warehouse URI.

    The password rides inside the URI rather than in the import API's
    ``passwords`` form field: Superset's action log stores form fields verbatim
    (apache/superset#35355), while a URI is stored masked with the password
    encrypted. Built in memory so the password never lands in a file.
    """
    uri = reader_superset_uri(settings, masked=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in _asset_files(assets_dir):
            rel = path.relative_to(assets_dir).as_posix()
            text = path.read_text(encoding="utf-8")
            if rel.startswith("databases/"):
                text = _render_database(text, uri, path)
            # Superset strips the first path component of every entry.
            zf.writestr(f"edp_superset_assets/{rel}", text)
    return buffer.getvalue()


def import_assets(client: SupersetClient, settings: Settings, assets_dir: Path = ASSETS_DIR) -> None:
    """Import the bundle through ``/api/v1/assets/import/`` (overwrites every object by UUID)."""
    bundle = render_bundle(settings, assets_dir)
    client.post("/api/v1/assets/import/", files={"bundle": ("edp_superset_assets.zip", bundle, "application/zip")})


# --------------------------------------------------------------------------- API client


def rison(value: Any) -> str:
    """Encode ``value`` as Rison, the query-string format of Superset's list APIs."""
    if value is None:
        return "!n"
    if value is True:
        return "!t"
    if value is False:
        return "!f"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        # Always quoted: valid for any string, and ! and ' are the only escapes.
        return "'" + value.replace("!", "!!").replace("'", "!'") + "'"
    if isinstance(value, Mapping):
        return "(" + ",".join(f"{rison(str(k))}:{rison(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(rison(v) for v in value) + ")"
    raise TypeError(f"cannot rison-encode {type(value).__name__}")


class SupersetClient:
    """Superset REST API as the admin: JWT login, then a CSRF token for writes."""

    def __init__(self, base: str, username: str, password: str, timeout: float = HTTP_TIMEOUT) -> None:
        self._http = httpx.Client(base_url=base, timeout=timeout)
        self._username = username
        self._password = password
        self._csrf: str | None = None

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def login(self) -> None:
        resp = self._http.post(
            "/api/v1/security/login",
            json={"username": self._username, "password": self._password, "provider": "db", "refresh": False},
        )
        if resp.status_code == 401:
            raise SupersetAuthError(f"Superset refused the login of {self._username!r}")
        _raise_for(resp, "login")
        self._http.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def _csrf_token(self) -> str:
        # The token is bound to the session cookie, which the httpx client keeps.
        if self._csrf is None:
            self._csrf = str(self.get("/api/v1/security/csrf_token/")["result"])
        return self._csrf

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        resp = self._http.get(path, params=params)
        _raise_for(resp, f"GET {path}")
        return resp.json()

    def post(self, path: str, **kwargs: Any) -> Any:
        headers = {"X-CSRFToken": self._csrf_token(), "Referer": str(self._http.base_url)}
        resp = self._http.post(path, headers=headers, **kwargs)
        _raise_for(resp, f"POST {path}")
        return resp.json()

    def find(self, resource: str, column: str, value: str, columns: list[str]) -> list[dict[str, Any]]:
        """Objects of ``resource`` (chart, dashboard, database...) whose ``column`` equals ``value``."""
        query = {"filters": [{"col": column, "opr": "eq", "value": value}], "columns": columns, "page_size": 100}
        return list(self.get(f"/api/v1/{resource}/", params={"q": rison(query)})["result"])


class SupersetAuthError(SupersetError):
    """The admin login was refused."""


def _raise_for(resp: httpx.Response, what: str) -> None:
    if resp.is_success:
        return
    try:
        detail: Any = resp.json()
    except ValueError:
        detail = resp.text[:500]
    raise SupersetError(f"Superset {what} answered {resp.status_code}: {detail}")


@contextmanager
def admin_client(settings: Settings, base: str) -> Iterator[SupersetClient]:
    """A logged-in admin client; repairs the admin password once if it drifted."""
    password = generated_secret(settings, ADMIN_SECRET)
    client = SupersetClient(base, ADMIN_USER, password)
    try:
        try:
            client.login()
        except SupersetAuthError:
            # The metadata DB outlived a regenerated secret: make them agree again.
            log.warning("Superset admin login refused; resetting the admin password")
            reset_admin_password(settings)
            client.login()
        yield client
    finally:
        client.close()


# --------------------------------------------------------------------------- 6. server


def _pid_alive(pid: int) -> bool:
    try:
        # Reap it if it is our own exited child, else a zombie would look alive.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _read_pidfile(settings: Settings) -> dict[str, Any] | None:
    path = superset_paths(settings).pidfile
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    # Guard against pid reuse: the process must still be our gunicorn.
    if not _pid_alive(pid) or (cmdline.exists() and b"superset.app" not in cmdline.read_bytes()):
        path.unlink(missing_ok=True)
        return None
    return info


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_healthy(url: str, pid: int, log_path: Path, log_start: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _healthy(url):
            return
        if not _pid_alive(pid):
            raise SupersetError(f"Superset exited during start-up; log {log_path}:\n{_log_tail(log_path, log_start)}")
        time.sleep(0.5)
    raise SupersetError(
        f"Superset did not answer {url}/health within {timeout:.0f}s; log {log_path}:\n{_log_tail(log_path, log_start)}"
    )


def _server_command(port: int) -> list[str]:
    # gunicorn with threads, as Superset's own images run it; the dev server is not for services.
    return [
        str(VENV_DIR / "bin" / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "8",
        "--timeout",
        "120",
        "--graceful-timeout",
        "10",
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        "superset.app:create_app()",
    ]


def start_server(settings: Settings, timeout: float = SERVER_START_TIMEOUT) -> str:
    """Start Superset's web server for this EDP_HOME, or reuse the running one; return its URL."""
    url = base_url(settings)
    paths = superset_paths(settings)
    running = _read_pidfile(settings)
    if running and running.get("port") == settings.superset_port:
        # Ours: healthy, or still starting (another process launched it).
        _wait_healthy(url, int(running["pid"]), paths.log, 0, timeout)
        return url
    if running:
        stop_server(settings)  # ours, but on a port we no longer use
    if _port_in_use(settings.superset_port):
        raise SupersetError(
            f"port {settings.superset_port} is taken by a process not started for {settings.home}; "
            "stop it or set EDP_SUPERSET_PORT"
        )
    ensure_environment(settings)
    write_config(settings)
    with paths.log.open("ab") as fh:
        fh.write(f"\n$ gunicorn superset on 127.0.0.1:{settings.superset_port}\n".encode())
        log_start = fh.tell()
        # Own session: the server outlives this process and is stopped as a group.
        proc = subprocess.Popen(
            _server_command(settings.superset_port),
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=_child_env(settings),
            cwd=paths.home,
            start_new_session=True,
        )
    paths.pidfile.write_text(json.dumps({"pid": proc.pid, "port": settings.superset_port, "url": url}))
    try:
        _wait_healthy(url, proc.pid, paths.log, log_start, timeout)
    except SupersetError:
        stop_server(settings)
        raise
    return url


def stop_server(settings: Settings, timeout: float = SERVER_STOP_TIMEOUT) -> bool:
    """Stop the server started for this EDP_HOME; returns whether one was running."""
    info = _read_pidfile(settings)
    if info is None:
        return False
    pid = int(info["pid"])
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)  # the group: gunicorn's master and its workers
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.2)
        if not _pid_alive(pid):
            break
    superset_paths(settings).pidfile.unlink(missing_ok=True)
    return True


# --------------------------------------------------------------------------- 7. provision


def _listed(client: SupersetClient, resource: str, title_col: str, titles: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for title in titles:
        for item in client.find(resource, title_col, title, ["id", title_col]):
            found.append({"id": item["id"], "title": item[title_col]})
    return found


def provision(settings: Settings) -> dict[str, Any]:
    """Set up (or update) Superset end to end; safe to run again.

    Returns ``{"url", "dashboard_url", "database", "dashboards", "charts"}``,
    the last two as ``[{"id", "title"}]`` listed back from the API.
    """
    started = time.monotonic()
    ensure_environment(settings)
    write_config(settings)
    init_metadata(settings)
    ensure_reader_role(settings)
    url = start_server(settings)
    inventory = asset_inventory()
    with admin_client(settings, url) as client:
        import_assets(client, settings)
        dashboards = _listed(client, "dashboard", "dashboard_title", [d["title"] for d in inventory["dashboards"]])
        charts = _listed(client, "chart", "slice_name", [c["title"] for c in inventory["charts"]])
    slug = yaml.safe_load(next((ASSETS_DIR / "dashboards").glob("*.yaml")).read_text(encoding="utf-8"))["slug"]
    log.info("Superset provisioned at %s in %.1fs", url, time.monotonic() - started)
    return {
        "url": url,
        "dashboard_url": f"{url}/superset/dashboard/{slug}/",
        "database": DATABASE_NAME,
        "dashboards": dashboards,
        "charts": charts,
    }


# --------------------------------------------------------------------------- 8. chart data


def _decode_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of one chart-data result, temporal columns as naive datetimes.

    Superset sends timestamps as epoch milliseconds of the wall-clock time it
    displays (UTC for a timestamptz column, Beijing time for the dataset's
    ``obs_hour_bjt``), so the naive datetime is exactly what the chart shows.
    """
    temporal = {
        name
        for name, kind in zip(result.get("colnames") or [], result.get("coltypes") or [], strict=False)
        if kind == _TEMPORAL
    }
    rows: list[dict[str, Any]] = []
    for row in result.get("data") or []:
        decoded = dict(row)
        for name in temporal & decoded.keys():
            if isinstance(decoded[name], int | float):
                decoded[name] = datetime.fromtimestamp(decoded[name] / 1000, tz=UTC).replace(tzinfo=None)
        rows.append(decoded)
    return rows


def chart_data(settings: Settings, base_url: str, chart_title: str) -> list[dict[str, Any]]:
    """The rows of the chart titled ``chart_title``, as the API serves them.

    Runs the chart's saved query context (``GET /api/v1/chart/<id>/data/``),
    i.e. the long-format query before any client-side pivot.
    """
    with admin_client(settings, base_url) as client:
        matches = client.find("chart", "slice_name", chart_title, ["id", "slice_name"])
        if not matches:
            raise SupersetError(f"no chart titled {chart_title!r} at {base_url}")
        if len(matches) > 1:
            raise SupersetError(f"{len(matches)} charts titled {chart_title!r} at {base_url}")
        payload = client.get(
            f"/api/v1/chart/{matches[0]['id']}/data/", params={"format": "json", "type": "full", "force": "true"}
        )
    rows: list[dict[str, Any]] = []
    for result in payload.get("result", []):
        if result.get("error"):
            raise SupersetError(f"chart {chart_title!r}: {result['error']}")
        rows.extend(_decode_rows(result))
    return rows
