"""Seeded, order-independent randomness.

Values are derived by hashing a seed with the identity of the thing being
generated (station, hour, request number, ...), so any slice of the data can be
produced on demand without storage and comes out identical on every run.
Python's ``hash()`` is salted per process, hence blake2b.
"""

from __future__ import annotations

import hashlib
import random
from statistics import NormalDist

_NORMAL = NormalDist()


def _digest(parts: tuple[object, ...]) -> bytes:
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


def unit(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by ``parts``."""
    return int.from_bytes(_digest(parts), "big") / 2**64


def gauss(*parts: object) -> float:
    """A standard-normal number fixed by ``parts``."""
    u = min(max(unit(*parts), 1e-12), 1 - 1e-12)
    return _NORMAL.inv_cdf(u)


def rng(*parts: object) -> random.Random:
    """A ``random.Random`` for when one identity needs many numbers."""
    return random.Random(int.from_bytes(_digest(parts), "big"))
