"""Build configured connector instances from settings and ``sources.yml``.

Each connector module ``connectors/<name>.py`` exposes ``create(ctx)``; the
platform gives it a ``SourceContext`` and never lets it read settings itself.
"""

from __future__ import annotations

import importlib
import importlib.util

from connectors.base import Source
from connectors.context import SourceContext
from connectors.schema import Dataset
from edp.sandbox_link import SANDBOX, sandbox_url
from edp.secrets import generated_secret, source_credential
from edp.settings import Settings

# One name per source everywhere: connector module, lake prefix, raw tables, DAG id.
CONNECTORS: dict[str, str] = {
    "weather": "connectors.weather",
    "water": "connectors.water",
    "police": "connectors.police",
    "natural_resources": "connectors.natural_resources",
    "transport": "connectors.transport",
    "bureau": "connectors.bureau",
}


def source_url(settings: Settings, name: str) -> str:
    url = settings.source(name).url
    return sandbox_url(settings, name) if url == SANDBOX else url


def pii_key(settings: Settings) -> bytes:
    configured = settings.pii_key.get_secret_value() if settings.pii_key else None
    return (configured or generated_secret(settings, "pii_hmac_key", nbytes=32)).encode("utf-8")


def source_context(settings: Settings, name: str) -> SourceContext:
    cfg = settings.source(name)
    work = settings.home_dir / "work" / name
    work.mkdir(parents=True, exist_ok=True)
    return SourceContext(
        name=name,
        url=source_url(settings, name),
        options=dict(cfg.options),
        credential=lambda key: source_credential(settings, name, key),
        pii_key=lambda: pii_key(settings),
        work_dir=work,
        params={
            "weather_lookback_hours": settings.weather_lookback_hours,
            "weather_initial_days": settings.weather_initial_days,
        },
    )


def build_source(settings: Settings, name: str) -> Source:
    if name not in CONNECTORS:
        raise KeyError(f"no connector for source {name!r} (known: {', '.join(sorted(CONNECTORS))})")
    module = importlib.import_module(CONNECTORS[name])
    return module.create(source_context(settings, name))


def declared_datasets(name: str) -> dict[str, Dataset]:
    """The datasets a connector declares, without building (or reaching) the source."""
    return dict(importlib.import_module(CONNECTORS[name]).DATASETS)


def configured_sources(settings: Settings) -> list[str]:
    """Sources in sources.yml whose connector exists."""
    names = []
    for name in settings.sources():
        if name in CONNECTORS and importlib.util.find_spec(CONNECTORS[name]) is not None:
            names.append(name)
    return names

