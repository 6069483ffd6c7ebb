"""Great Expectations suites, one module per source or mart, as Python values.

A dataset is named after the warehouse table it checks (``schema.table``),
so the name also says what is validated; ``SUITES`` maps it to the function
that builds its suite. Importing this package does not import GX.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from expectations import marts_weather, weather
from expectations.dimensions import DIMENSION_LABELS, Dimension, Severity

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

SUITES: dict[str, Callable[[], ExpectationSuite]] = {
    weather.DATASET: weather.observations_suite,
    marts_weather.DATASET: marts_weather.hourly_extremes_suite,
}


def target(dataset: str) -> tuple[str, str]:
    """The (schema, table) a dataset's suite validates."""
    schema, _, table = dataset.partition(".")
    if not schema or not table:
        raise ValueError(f"dataset names are 'schema.table', got {dataset!r}")
    return schema, table


__all__ = ["DIMENSION_LABELS", "SUITES", "Dimension", "Severity", "target"]
