"""The one list of sources. Each name is used everywhere for that source:
its package ``connectors/<name>/``, lake prefix, raw tables (``raw.<name>__*``),
dbt staging folder, Airflow DAG id, GX suites (``expectations/<name>.py``) and
its entry in ``sources.yml``. Every other list of sources derives from this one.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from edp.errors import NotFound

SOURCES: tuple[str, ...] = ("weather", "water", "police", "natural_resources", "transport", "bureau")


class UnknownSource(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"no connector for source {name!r} (known: {', '.join(SOURCES)})")
        self.name = name


def connector_package(name: str) -> ModuleType:
    """The source's package; it exposes ``create(ctx)`` and ``DATASETS``."""
    if name not in SOURCES:
        raise UnknownSource(name)
    return importlib.import_module(f"connectors.{name}")
