"""The connector contract: check, discover, read.

A source module holds only what is specific to its department (its datasets,
how to page, its odd conventions). Landing, typing, quarantine, Parquet,
manifests, loading and cursor state are shared machinery in ``edp.ingest.extract``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from connectors.schema import Dataset


@dataclass
class Page:
    """One answer of the source: its original bytes and the records in it."""

    body: bytes
    content_type: str
    records: list[dict[str, Any]]
    # Where these bytes came from, for error messages and the manifest.
    locator: str
    # The cursor value once this page is loaded (None: unchanged).
    cursor: str | None = None


@dataclass
class CheckResult:
    source: str
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


class Source(ABC):
    """A department system the platform reads from."""

    name: ClassVar[str]
    title: ClassVar[str]

    @abstractmethod
    def datasets(self) -> dict[str, Dataset]:
        """The datasets this source declares, by name."""

    @abstractmethod
    def check(self) -> CheckResult:
        """Can the source be reached and are our credentials accepted?"""

    def discover(self) -> list[Dataset]:
        """What the source offers now (by default: what it declares)."""
        return list(self.datasets().values())

    @abstractmethod
    def read(self, dataset: str, cursor: str | None, until: datetime) -> Iterator[Page]:
        """Pages of ``dataset`` changed since ``cursor``, up to ``until``."""

    def normalise(self, dataset: str, record: dict[str, Any]) -> dict[str, Any]:
        """Undo the source's own conventions before typing (default: none)."""
        return record

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
