"""One settings object for the whole platform (pydantic-settings).

Every part of the platform (CLI, connectors, loaders, dbt profile, GX, sync,
Superset provisioning, Airflow tasks) reads configuration through
:func:`get_settings`; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.registry import SOURCES
from edp.errors import ConfigError, NotFound

REPO_ROOT = Path(__file__).resolve().parent.parent
REGION_CODE = "210381"


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
            cfg = SourceConfig(name=name, **entry)
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


def credential(var_name: str) -> str | None:
    """Value of a credential variable named in ``sources.yml``."""
    return _env(var_name)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
