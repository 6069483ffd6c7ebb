"""Build configured connector instances from settings and ``sources.yml``.

Each source's package ``connectors/<name>/`` exposes ``create(ctx)`` and
``DATASETS``; the sources are listed once, in ``connectors.registry``. The
platform gives a connector a ``SourceContext`` and never lets it read settings itself.
"""

from __future__ import annotations

from connectors.base import Source
from connectors.context import SourceContext
from connectors.limits import Limits
from connectors.registry import SOURCES, connector_package
from connectors.schema import Dataset
from edp.sandbox.link import SANDBOX, sandbox_url
from edp.secrets import generated_secret, source_credential
from edp.settings import Settings


def source_url(settings: Settings, name: str) -> str:
    url = settings.source(name).url
    return sandbox_url(settings, name) if url == SANDBOX else url


def pii_key(settings: Settings) -> bytes:
    configured = settings.pii_key.get_secret_value() if settings.pii_key else None
    return (configured or generated_secret(settings, "pii_hmac_key", nbytes=32)).encode("utf-8")


def source_context(settings: Settings, name: str, *, check_timeout: float | None = None) -> SourceContext:
    """``check_timeout``: build the source for a check, one short attempt (``SourceContext.check_timeout``)."""
    cfg = settings.source(name)
    work = settings.home_subdir("work", name)
    return SourceContext(
        name=name,
        url=source_url(settings, name),
        options=dict(cfg.options),
        credential=lambda key: source_credential(settings, name, key),
        pii_key=lambda: pii_key(settings),
        work_dir=work,
        limits=Limits.from_config(cfg.limits),
        params={
            "weather_lookback_hours": settings.weather_lookback_hours,
            "weather_initial_days": settings.weather_initial_days,
        },
        check_timeout=check_timeout,
    )


def build_source(settings: Settings, name: str, *, check_timeout: float | None = None) -> Source:
    """The configured connector; with ``check_timeout``, one built to be checked quickly (no retries)."""
    source: Source = connector_package(name).create(source_context(settings, name, check_timeout=check_timeout))
    return source


def declared_datasets(name: str) -> dict[str, Dataset]:
    """The datasets a connector declares, without building (or reaching) the source."""
    return dict(connector_package(name).DATASETS)


def configured_sources(settings: Settings) -> list[str]:
    """Sources in sources.yml that have a connector, in the registry's order."""
    configured = settings.sources()
    return [name for name in SOURCES if name in configured]
