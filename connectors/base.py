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
from enum import StrEnum
from typing import Any, ClassVar

from connectors.http import CredentialsRefused, SourceRejected
from connectors.schema import Dataset
from edp.errors import DataRejected, SourceUnavailable


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


class CheckStatus(StrEnum):
    """What checking a source found (数据源检查结果); ``edp sources check`` reports one per source."""

    REACHABLE = "reachable"  # 可达: it answered as its contract says, our credentials accepted
    REFUSED_CREDENTIALS = "refused_credentials"  # 凭据被拒: it answered, and refused our key, secret or account
    UNREACHABLE = "unreachable"  # 不可达: no answer in time, connection refused, a server error, a folder missing
    WRONG_CONTRACT = "wrong_contract"  # 不符合约定: it answered something else (content type, schema, version)
    MISCONFIGURED = "misconfigured"  # 配置错误: nothing was tried, the source cannot be set up from sources.yml


# HTTP statuses that mean "not with these credentials".
_CREDENTIAL_STATUS = frozenset({401, 403, 407})


def check_status(exc: BaseException) -> CheckStatus:
    """The status a check reports for the exception that ended it."""
    if isinstance(exc, CredentialsRefused):
        return CheckStatus.REFUSED_CREDENTIALS
    if isinstance(exc, SourceRejected):
        if exc.status in _CREDENTIAL_STATUS:
            return CheckStatus.REFUSED_CREDENTIALS
        # A server error is the source failing, not answering something else.
        return CheckStatus.UNREACHABLE if exc.status >= 500 else CheckStatus.WRONG_CONTRACT
    if isinstance(exc, SourceUnavailable | OSError | TimeoutError):
        return CheckStatus.UNREACHABLE
    if isinstance(exc, DataRejected | ValueError):
        return CheckStatus.WRONG_CONTRACT
    return CheckStatus.UNREACHABLE


@dataclass
class CheckResult:
    source: str
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    # Unset: reachable when ok, else unreachable; a connector that knows better says so (see failed()).
    status: CheckStatus | None = None

    def __post_init__(self) -> None:
        if self.status is None:
            self.status = CheckStatus.REACHABLE if self.ok else CheckStatus.UNREACHABLE
        elif (self.status is CheckStatus.REACHABLE) != self.ok:
            raise ValueError(f"{self.source}: a check result is ok exactly when its status is reachable")

    @classmethod
    def failed(cls, source: str, exc: BaseException, details: dict[str, Any] | None = None) -> CheckResult:
        """A failed check, its status from the exception (``check_status``), its message the exception's."""
        return cls(source, False, str(exc), dict(details or {}), check_status(exc))


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
