"""One settings object for the whole platform (pydantic-settings).

Every part of the platform (CLI, connectors, loaders, dbt profile, GX, sync,
Superset provisioning, Airflow tasks) reads configuration through
:func:`get_settings`; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
import re
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.registry import SOURCES
from edp.errors import ConfigError, NotFound

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION_CODE = "210381"
ENV_PREFIX = "EDP_"
_POSTGRES_SCHEMES = ("postgresql", "postgres")
_HTTP_SCHEMES = ("http", "https")


class SettingsInvalid(ConfigError):
    """A setting's value is refused when the settings are read; the message names the variable, never a secret."""


def _url_problem(value: str, schemes: tuple[str, ...], example: str) -> str | None:
    """Why ``value`` is not a URL of one of ``schemes`` (``postgresql+psycopg`` counts as ``postgresql``), or None."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError:
        return f"not a URL (expected {example})"
    if parts.scheme.split("+", 1)[0].lower() not in schemes or not (parts.netloc or "host=" in parts.query):
        return f"not a {' or '.join(schemes)} URL (expected {example})"
    return None


class SourceConfig(BaseModel):
    """One entry of ``sources.yml``."""

    name: str
    title: str = ""
    url: str
    schedule: str = "@hourly"
    # Credentials are named by environment variable, never stored in the file.
    credentials: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    # Bounds on bodies, pages, files and sheets (connectors.limits.Limits); unset keys keep the defaults.
    limits: dict[str, int] = Field(default_factory=dict)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EDP_", extra="ignore")

    home: Path = REPO_ROOT / ".edp"
    warehouse_url: SecretStr | None = None
    lake_url: str | None = None
    s3_endpoint: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_secure: bool = False
    # The city's exchange API; "sandbox" (the embedded default) is the stand-in's URL from `edp sandbox up`.
    anshan_url: str = "sandbox"
    anshan_app_key: SecretStr | None = None
    anshan_app_secret: SecretStr | None = None
    anshan_timeout_seconds: float = 10.0
    # Key of the keyed pseudonyms of personal information (police.md).
    pii_key: SecretStr | None = None
    sources_file: Path = REPO_ROOT / "sources.yml"
    sandbox_seed: int = 42
    sandbox_scale: float = 1.0
    # History the stand-ins hold, in days (at least; 3 is the demo's; 365 is a year of data).
    sandbox_days: int = Field(default=3, ge=1)
    # The weather and water stand-ins' shared storm: the month's weather ("season": snow in winter) or the
    # summer rainstorm whatever the date ("summer"; docs/design/rainstorm-rule.md).
    sandbox_storm: Literal["season", "summer"] = "season"
    # `edp sources check`: seconds each source has to connect and as many to answer, one attempt, all sources at
    # once; a source still silent after twice this is reported unreachable. The ingest keeps its retries.
    sources_check_timeout_seconds: float = Field(default=5.0, gt=0)
    # How far back each weather pull re-reads, for the bureau's late corrections.
    weather_lookback_hours: int = 6
    # First pull of an empty cursor starts this far back.
    weather_initial_days: int = 3
    # Raw incremental datasets are checked in their new batches between full checks this far apart.
    check_full_every_hours: float = Field(default=24.0, gt=0)
    # PostgreSQL settings of dbt's sessions (libpq PGOPTIONS). On SSD storage an index probe costs
    # about what a sequential page does: at PostgreSQL's default random_page_cost (4) an incremental
    # run reads all of raw where its few thousand touched keys are index lookups (a year of rainfall:
    # 2.8 s against 1.1 s). JIT compiles for most of a second per large query, more than it saves.
    dbt_session_options: str = "-c random_page_cost=1.1 -c jit=off"
    # A dead or hung client's session is ended by the server (edp.storage.sessions): a running query is
    # cancelled this many seconds after its client vanished (PostgreSQL 14+), an idle open transaction after
    # this long; over TCP, keepalives probe a silent peer after this long.
    warehouse_client_check_seconds: float = Field(default=5.0, gt=0)
    warehouse_idle_in_transaction_seconds: float = Field(default=900.0, ge=0)
    warehouse_keepalive_idle_seconds: int = Field(default=60, gt=0)
    superset_port: int = 8088
    # A Superset run by its own image or chart (production): `edp superset provision` then sets up only the
    # read-only role and the assets there. Unset: the platform runs Superset itself from infra/superset/.venv.
    superset_url: str | None = None
    # Services of `edp up` (127.0.0.1 ports): Airflow's API server and UI, the docs server.
    airflow_port: int = 8080
    docs_port: int = 8090
    # Airflow's metadata database; unset: database `airflow` on the warehouse's server (embedded or configured).
    airflow_metadata_url: SecretStr | None = None
    # `local` (LocalExecutor, one host) or `celery` (CeleryExecutor: `edp worker` / `edp up --workers N`).
    airflow_executor: str = Field(default="local", pattern="^(local|celery)$")
    # The transform DAG's dbt nodes as Airflow tasks of their own (astronomer-cosmos) or one `dbt build` task.
    # `auto`: per model with Celery workers; one task on a single host, where 187 task processes a run cost
    # minutes of CPU on two cores (docs/operations.md).
    dbt_tasks: str = Field(default="auto", pattern="^(auto|per_model|single)$")
    # Celery's broker (Redis or RabbitMQ); results go to the metadata database.
    celery_broker_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    # How long Airflow waits before it retries a failed task of the platform's DAGs (their ``retry_delay``;
    # the warning lane keeps its own 10 s).
    task_retry_seconds: float = Field(default=120.0, gt=0)
    # Alerts (ops.alerts): where they are sent; an unset channel is not used.
    alert_webhook_url: str | None = None
    alert_smtp_host: str | None = None
    alert_smtp_port: int = 25
    alert_smtp_user: str | None = None
    alert_smtp_password: SecretStr | None = None
    alert_smtp_starttls: bool = False
    alert_email_from: str = "edp@localhost"
    # Comma-separated recipients.
    alert_email_to: str = ""
    # An open alert seen again is re-sent at most this often (a reminder), never on every run.
    alert_repeat_hours: float = Field(default=24.0, gt=0)
    log_level: str = "INFO"

    @field_validator("warehouse_url", "airflow_metadata_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        # Read as a bare word, "notaurl" would be a database name on the local socket: refused instead.
        example = "postgresql://user@host:5432/database"
        if value is not None and (problem := _url_problem(value.get_secret_value(), _POSTGRES_SCHEMES, example)):
            raise ValueError(problem)
        return value

    @field_validator("anshan_url")
    @classmethod
    def _anshan_url(cls, value: str) -> str:
        if value != "sandbox" and (problem := _url_problem(value, _HTTP_SCHEMES, "https://host/path or 'sandbox'")):
            raise ValueError(problem)
        return value

    @field_validator("superset_url", "alert_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and (problem := _url_problem(value, _HTTP_SCHEMES, "https://host/path")):
            raise ValueError(problem)
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value

    def runtime_dir(self) -> Path:
        """``XDG_RUNTIME_DIR`` when usable (this user's directory, mode 0700), else ``$EDP_HOME/run``, made so.

        The embedded PostgreSQL (pgserver, through platformdirs) keeps its lock file there; without a usable one
        platformdirs warns (RuntimeDirWarning) on every command run outside `make`.
        """
        configured = _env("XDG_RUNTIME_DIR")
        if configured and _private_dir(Path(configured)):
            return Path(configured)
        path = self.home_dir / "run"
        path.mkdir(mode=0o700, exist_ok=True)
        if not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) != 0o700:
            path.chmod(0o700)
        return path

    @property
    def home_dir(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home

    def home_subdir(self, *parts: str) -> Path:
        """``$EDP_HOME/<parts>``, created if missing (dbt, GX, Airflow, pg, a source's work folder)."""
        path = self.home_dir.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def lake(self) -> str:
        return self.lake_url or (self.home_dir / "lake").resolve().as_uri()

    def sources(self) -> dict[str, SourceConfig]:
        """Sources from ``sources.yml``, each URL overridable by ``EDP_SOURCE_<NAME>_URL``."""
        raw = yaml.safe_load(self.sources_file.read_text(encoding="utf-8")) or {}
        result: dict[str, SourceConfig] = {}
        for name, entry in (raw.get("sources") or {}).items():
            if name not in SOURCES:
                raise ConfigError(
                    f"{self.sources_file}: source {name!r} has no connector (known: {', '.join(SOURCES)}); "
                    "see docs/adding-a-source.md"
                )
            override = _env(f"EDP_SOURCE_{name.upper()}_URL")
            try:
                cfg = SourceConfig(name=name, **(entry or {}))
            except (ValidationError, TypeError) as exc:
                raise ConfigError(f"{self.sources_file}: source {name!r}: {validation_text(exc)}") from None
            if override:
                cfg.url = override
            result[name] = cfg
        return result

    def source(self, name: str) -> SourceConfig:
        sources = self.sources()
        if name not in sources:
            known = ", ".join(sorted(sources)) or "none"
            raise NotFound(f"unknown source {name!r} in {self.sources_file} (known: {known})")
        return sources[name]


def _env(name: str) -> str | None:
    # The single place where the environment is read outside pydantic-settings:
    # credential variables are named in sources.yml, so their names are data.
    return os.environ.get(name) or None


def _private_dir(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o700


def validation_text(exc: Exception) -> str:
    """A validation error without its input values (they may be secrets)."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg'].removeprefix('Value error, ')}"
        for err in exc.errors(include_input=False, include_url=False)
    )


def _settings_error(exc: ValidationError) -> SettingsInvalid:
    problems = []
    for err in exc.errors(include_input=False, include_url=False):
        field = str(err["loc"][0]) if err["loc"] else ""
        name = f"{ENV_PREFIX}{field.upper()}" if field else "settings"
        problems.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
    return SettingsInvalid("; ".join(problems) + " (docs/operations.md, Configuration)")


_SECRET_NAME = re.compile(r"KEY|SECRET|PASSWORD|PASSWD|TOKEN|_URL$")


def secret_values(settings: Settings | None = None) -> list[str]:
    """Values that must never be printed: secret-looking ``EDP_*`` variables (a URL's password among them),
    the credential variables sources.yml names and the generated secrets of ``$EDP_HOME/secrets``.

    Best effort and never raises: the CLI's error handler masks these in whatever it prints.
    """
    values: set[str] = set()
    names = {n for n in os.environ if n.startswith(ENV_PREFIX) and _SECRET_NAME.search(n)}
    try:
        current = settings or get_settings()
        names |= {var for cfg in current.sources().values() for var in cfg.credentials.values()}
        home = current.home
    except Exception:
        home = Path(_env("EDP_HOME") or REPO_ROOT / ".edp")
    for name in names:
        value = _env(name) or ""
        if name.endswith("_URL"):
            try:
                value = urlsplit(value).password or ""
            except ValueError:
                value = ""
        values.add(value)
    try:
        for path in (home / "secrets").iterdir():
            if path.is_file() and path.stat().st_size < 4096:
                values.add(path.read_text(encoding="utf-8").strip())
    except OSError:
        pass
    # Short values would mask ordinary words; a secret is longer than this.
    return sorted((v for v in values if len(v) >= 4), key=len, reverse=True)


def debug_requested() -> bool:
    """``EDP_DEBUG=1`` (or true/yes/on): the CLI shows the traceback of a failure."""
    return (_env("EDP_DEBUG") or "").strip().lower() in ("1", "true", "yes", "on")


def credential(var_name: str) -> str | None:
    """Value of a credential variable named in ``sources.yml``."""
    return _env(var_name)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, validated: a refused value is a ``SettingsInvalid`` naming its variable, never its value."""
    try:
        return Settings()
    except ValidationError as exc:
        raise _settings_error(exc) from None


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
