"""Build configured connector instances from settings and ``sources.yml``."""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import Source
from connectors.weather import WeatherSource
from edp.sandbox_link import SANDBOX, sandbox_url
from edp.secrets import source_credential
from edp.settings import Settings


def source_url(settings: Settings, name: str) -> str:
    url = settings.source(name).url
    return sandbox_url(settings, name) if url == SANDBOX else url


def _weather(settings: Settings) -> Source:
    cfg = settings.source("weather")
    return WeatherSource(
        source_url(settings, "weather"),
        source_credential(settings, "weather", "api_key"),
        page_size=int(cfg.options.get("page_size", 1000)),
        lookback_hours=settings.weather_lookback_hours,
        initial_days=settings.weather_initial_days,
    )


BUILDERS: dict[str, Callable[[Settings], Source]] = {"weather": _weather}


def build_source(settings: Settings, name: str) -> Source:
    if name not in BUILDERS:
        raise KeyError(f"no connector for source {name!r} (known: {', '.join(sorted(BUILDERS))})")
    return BUILDERS[name](settings)


def configured_sources(settings: Settings) -> list[str]:
    return [name for name in settings.sources() if name in BUILDERS]
