"""Great Expectations suites, one module per source or mart, as Python values.

A dataset is named after the warehouse object it checks (``schema.table``),
so the name also says what is validated; ``SUITES`` maps it to its registry
entry (:class:`~expectations.spec.Suite`), whose ``build()`` returns the GX
suite. Raw suites are built from the connectors' declarations
(``expectations.raw``) plus each source's own rules; mart suites are keyed to
the marts' contracts. Importing this package does not import GX.
"""

from __future__ import annotations

import importlib

from connectors.registry import SOURCES
from expectations import marts_enterprise, marts_hazard, marts_resource, marts_weather
from expectations.dimensions import DIMENSION_LABELS, Dimension, Severity
from expectations.spec import Suite

# One module per source, named as in the registry (``expectations/<source>.py``).
SOURCE_MODULES = tuple(importlib.import_module(f"expectations.{name}") for name in SOURCES)
MART_MODULES = (marts_weather, marts_hazard, marts_enterprise, marts_resource)

SUITES: dict[str, Suite] = {
    name: suite for module in (*SOURCE_MODULES, *MART_MODULES) for name, suite in module.SUITES.items()
}


def target(dataset: str) -> tuple[str, str]:
    """The (schema, table) a dataset's suite validates."""
    schema, _, table = dataset.partition(".")
    if not schema or not table:
        raise ValueError(f"dataset names are 'schema.table', got {dataset!r}")
    return schema, table


__all__ = ["DIMENSION_LABELS", "SUITES", "Dimension", "Severity", "Suite", "target"]
