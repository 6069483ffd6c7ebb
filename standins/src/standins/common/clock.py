"""An injectable, adjustable clock.

Answers of the stand-ins depend on "now" (which hours exist, which corrections
are visible, whether a signed timestamp is fresh), so tests and demos need to
pin and move it without monkeypatching.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from standins.common.timefmt import as_aware

ClockFn = Callable[[], datetime]


def real_now() -> datetime:
    return datetime.now(UTC)


class SandboxClock:
    """Wraps a base clock; can be frozen at a moment or shifted by an offset."""

    def __init__(self, base: ClockFn | None = None) -> None:
        self._base: ClockFn = base or real_now
        self._frozen: datetime | None = None
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return as_aware(self._base()) + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, moment: datetime) -> None:
        with self._lock:
            self._frozen = as_aware(moment)

    def release(self) -> None:
        """Back to the base clock (no offset)."""
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta
