"""The platform's own error family: every expected failure is an ``EdpError``.

The CLI shows an ``EdpError`` as one clear line and exits with its class's
``exit_code``; anything else is a bug and keeps its traceback. Classes name
what went wrong for the operator, not where in the code it happened.
"""

from __future__ import annotations


class EdpError(Exception):
    """An expected failure with a message an operator can act on."""

    exit_code = 1


class ConfigError(EdpError):
    """Configuration is missing or wrong (settings, sources.yml, a sandbox that is not up)."""

    exit_code = 2


class SourceUnavailable(EdpError):
    """A source or service did not answer usefully within the retry budget."""

    exit_code = 3


class DataRejected(EdpError):
    """Data that arrived was refused (a file, page, field or record does not meet its contract)."""

    exit_code = 4


class QualityBlocked(EdpError):
    """A quality gate holds data back."""

    exit_code = 5


class ExchangeFailed(EdpError):
    """The exchange with the 鞍山市 city platform failed."""

    exit_code = 6


class ToolFailed(EdpError):
    """A tool the platform runs (dbt, Airflow, Superset) failed; its log says why."""

    exit_code = 7


class ServiceUnavailable(EdpError):
    """A service the platform uses (the warehouse, Celery's broker, Superset's or Airflow's API) did not answer.

    ``ServiceFailed`` (8, edp.orchestration.services) is a service of `edp up` that could not start.
    """

    exit_code = 9


class NotFound(ConfigError, KeyError):
    """An unknown name was asked for (a source, dataset or suite); the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
