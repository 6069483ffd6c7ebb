"""A registry entry: what one suite validates, and how its results are read.

Imports no GX: the registry stays cheap to import (the CLI, the sync gate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite


class LoadedBatch(NamedTuple):
    """A load batch as ``ops.batches`` records it: raw's rows of it carry both values."""

    batch_id: str
    extracted_at: datetime
    loaded_at: datetime | None = None  # a reload sets it anew: the batch is checked again


@dataclass(frozen=True)
class Suite:
    # The warehouse object checked, "schema.table"; also the dataset name in audit and in the sync gate.
    dataset: str
    layer: Literal["raw", "marts"]
    # Who the auditor's report groups it under: the source (raw) or the mart itself.
    group: str
    title: str
    # Builds the suite; raw suites are given their source's schedule (freshness).
    builder: Callable[[str | None], ExpectationSuite]
    source: str | None = None
    # What is validated when not the whole table (raw: the current rows, see expectations.raw).
    query: str | None = None
    # Columns naming a failing row in samples (key, and the load batch in raw).
    index_columns: tuple[str, ...] = ()
    # Personal information: never stored in audit samples or shown in reports in clear.
    pii_columns: frozenset[str] = frozenset()
    # Columns holding unified social credit codes (validated in Python before the run).
    credit_code_columns: tuple[str, ...] = ()
    # Raw: the batches that do not reconcile (the reconciliation rule's query; the report reuses it).
    reconciliation_query: str | None = None
    # Raw incremental datasets: the same suite over the current rows of the given batches only
    # (an incremental check run, see edp.quality.scope); None where only the whole dataset is checked.
    narrow: Callable[[Sequence[LoadedBatch]], Suite] | None = None
    # (schema, table) holding exactly the rows ``query`` yields (a check run's work table): GX reads
    # it as a table. Given a query, GX learns the columns by fetching the whole result into memory
    # (4.4 GB for 10M rows); from a table, by reflection.
    validated_table: tuple[str, str] | None = None

    @property
    def schema_table(self) -> tuple[str, str]:
        schema, _, table = self.dataset.partition(".")
        return schema, table

    def build(self, schedules: Mapping[str, str] | None = None) -> ExpectationSuite:
        schedule = None
        if self.source is not None:
            if not schedules or self.source not in schedules:
                raise KeyError(f"{self.dataset}: no schedule for source {self.source!r} (sources.yml)")
            schedule = schedules[self.source]
        return self.builder(schedule)
