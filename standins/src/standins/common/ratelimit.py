"""Sliding-window rate limiter ("more than N requests in any 1-second window")."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """Admits at most ``limit`` requests in any window of ``window`` seconds.

    Uses the monotonic clock, not the sandbox clock: the sandbox clock may be
    frozen by tests, while rate limiting is about real request bursts. Refused
    requests are not counted, so a client that waits ``Retry-After`` gets through.
    """

    def __init__(self, limit: int, window: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._admitted: deque[float] = deque()

    def check(self) -> int | None:
        """``None`` if admitted, else the whole seconds to wait (``Retry-After``)."""
        now = self._clock()
        while self._admitted and self._admitted[0] <= now - self.window:
            self._admitted.popleft()
        if len(self._admitted) >= self.limit:
            return max(1, math.ceil(self._admitted[0] + self.window - now))
        self._admitted.append(now)
        return None
