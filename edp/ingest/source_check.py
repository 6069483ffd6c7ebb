"""``edp sources check``: every configured source at once, each with one short attempt (数据源检查).

Each source is built (locally, one after another) for a check (``SourceContext.check_timeout``: one attempt, at
most ``EDP_SOURCES_CHECK_TIMEOUT_SECONDS`` to connect and as many to answer, no
retries) and checked in a thread of its own, so an outage of several sources
costs one timeout, not one retry budget (about a minute) per source. A source
still silent after twice the timeout (a connector that does not bound its own
calls, a hung mount) is reported unreachable and left behind: the threads are
daemons and end with the command. The scheduled ingest builds its sources
without ``check_timeout`` and keeps its retries.

Each source is reported as one :class:`~connectors.base.CheckStatus` with a short
detail and the seconds it took; :func:`exit_code` turns the worst of them into
the command's exit code (see docs/operations.md, "Daily checks").
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from connectors.base import CheckStatus, Source, check_status
from edp.errors import ConfigError, DataRejected, SourceUnavailable
from edp.ingest.sources import build_source, configured_sources
from edp.settings import Settings

log = logging.getLogger(__name__)

# A source has its timeout to connect and as much to answer: the whole check waits at most this many timeouts.
DEADLINE_FACTOR = 2.0
# A detail longer than this is cut (a refused answer's body, a driver's message); the log keeps it whole.
MAX_DETAIL = 300

# Exit codes: the first status of this list that any source has decides (all reachable: 0).
EXIT_CODES: tuple[tuple[CheckStatus, int], ...] = (
    (CheckStatus.UNREACHABLE, SourceUnavailable.exit_code),  # 3
    (CheckStatus.REFUSED_CREDENTIALS, ConfigError.exit_code),  # 2: the credentials we hold are wrong
    (CheckStatus.MISCONFIGURED, ConfigError.exit_code),  # 2
    (CheckStatus.WRONG_CONTRACT, DataRejected.exit_code),  # 4: it answers, not what its contract says
)

TITLES = {
    CheckStatus.REACHABLE: "可达",
    CheckStatus.REFUSED_CREDENTIALS: "凭据被拒",
    CheckStatus.UNREACHABLE: "不可达",
    CheckStatus.WRONG_CONTRACT: "不符合约定",
    CheckStatus.MISCONFIGURED: "配置错误",
}


@dataclass(frozen=True)
class SourceCheck:
    """One source's answer: one row of ``edp sources check``."""

    source: str
    status: CheckStatus
    detail: str
    elapsed_s: float

    @property
    def ok(self) -> bool:
        return self.status is CheckStatus.REACHABLE

    def row(self) -> dict[str, Any]:
        return {"source": self.source, "status": str(self.status), "detail": self.detail, "elapsed_s": self.elapsed_s}


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def check_source(settings: Settings, name: str, timeout: float) -> SourceCheck:
    """Build ``name`` for a check and check it once; never raises."""
    built = _build(settings, name, timeout)
    return built if isinstance(built, SourceCheck) else _check(name, built)


def _build(settings: Settings, name: str, timeout: float) -> Source | SourceCheck:
    """The source built for a check, or the row saying why it cannot be (misconfigured)."""
    start = time.monotonic()
    try:
        return build_source(settings, name, check_timeout=timeout)
    except Exception as exc:  # every failure to set the source up is reported, not raised
        log.debug("%s: not built for the check", name, exc_info=True)
        return SourceCheck(name, CheckStatus.MISCONFIGURED, _short(str(exc) or type(exc).__name__), _since(start))


def _check(name: str, source: Source) -> SourceCheck:
    start = time.monotonic()
    try:
        result = source.check()
        status, detail = result.status or CheckStatus.UNREACHABLE, result.message
    except Exception as exc:  # a connector that raises instead of answering a CheckResult
        log.debug("%s: check raised", name, exc_info=True)
        status, detail = check_status(exc), f"{type(exc).__name__}: {exc}"
    finally:
        try:
            source.close()
        except Exception:  # closing does not change what the check found
            log.debug("%s: close failed", name, exc_info=True)
    if status is not CheckStatus.REACHABLE:
        log.debug("%s: %s: %s", name, status, detail)  # the row says it; the log keeps it uncut
    return SourceCheck(name, status, _short(detail), _since(start))


def _since(start: float) -> float:
    return round(time.monotonic() - start, 2)


def check_sources(
    settings: Settings, names: list[str] | None = None, timeout: float | None = None
) -> list[SourceCheck]:
    """Check ``names`` (default: every configured source) at once; one row each, in the given order.

    The sources are built first, one after another: building is local work (imports, URLs, clients; a
    connector's ``create`` never talks to its source), and its cost under load is not the source's. Then
    every check runs at once, and this returns within ``DEADLINE_FACTOR`` × ``timeout`` (default:
    ``settings.sources_check_timeout_seconds``) of their start. ``elapsed_s`` is each check's own time.
    """
    timeout = settings.sources_check_timeout_seconds if timeout is None else timeout
    names = configured_sources(settings) if names is None else names
    built = {name: _build(settings, name, timeout) for name in names}
    found = {name: b for name, b in built.items() if isinstance(b, SourceCheck)}

    def run(name: str, source: Source) -> None:
        found[name] = _check(name, source)

    threads = [
        threading.Thread(target=run, args=(n, b), name=f"check-{n}", daemon=True)
        for n, b in built.items()
        if not isinstance(b, SourceCheck)
    ]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    deadline = start + DEADLINE_FACTOR * timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    waited = _since(start)
    silent = f"no answer within {DEADLINE_FACTOR * timeout:g} s (twice the {timeout:g}-second timeout); not waited for"
    return [found.get(n) or SourceCheck(n, CheckStatus.UNREACHABLE, silent, waited) for n in names]


def exit_code(checks: list[SourceCheck]) -> int:
    """0 when every source is reachable; else the code of the worst status found (``EXIT_CODES``)."""
    statuses = {c.status for c in checks}
    return next((code for status, code in EXIT_CODES if status in statuses), 0)
