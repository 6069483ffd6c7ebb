"""Great Expectations suites, one module per source or mart, as Python values.

A dataset is named after the warehouse object it checks (``schema.table``),
so the name also says what is validated; ``SUITES`` maps it to its registry
entry (:class:`~expectations.spec.Suite`), whose ``build()`` returns the GX
suite. Raw suites are built from the connectors' declarations
(``expectations.raw``) plus each source's own rules; mart suites are keyed to
the marts' contracts. Importing this package does not import GX.
"""

from __future__ import annotations

from expectations import (
    bureau,
    marts_enterprise,
    marts_hazard,
    marts_resource,
    marts_weather,
    natural_resources,
    police,
    transport,
    water,
    weather,
)
from expectations.dimensions import DIMENSION_LABELS, Dimension, Severity
from expectations.spec import Suite

SOURCE_MODULES = (weather, water, police, natural_resources, transport, bureau)
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
