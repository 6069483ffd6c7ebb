"""Fault switches and the deterministic dice that fire them.

Each stand-in declares its switches as a dataclass deriving from
:class:`FaultSwitches`; the same object is set at app creation and changed at
runtime through ``POST /__admin/faults``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from standins.common.determinism import unit


class FaultSwitches:
    """Mixin for dataclasses of switches: validated partial updates."""

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply ``changes`` atomically; raise ``ValueError`` naming the bad key."""
        fields = {f.name: f for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        validated: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in fields:
                known = ", ".join(sorted(fields))
                raise ValueError(f"unknown fault switch {key!r} (known: {known})")
            validated[key] = _coerce(key, fields[key].type, value)
        for key, value in validated.items():
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]


def _coerce(key: str, declared: object, value: Any) -> Any:
    kind = declared if isinstance(declared, str) else getattr(declared, "__name__", "")
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"{key} must be a string")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a number")
    if key.endswith("_rate") and not 0 <= value <= 1:
        raise ValueError(f"{key} must be between 0 and 1")
    if value < 0:
        raise ValueError(f"{key} must not be negative")
    return float(value)


class FaultDice:
    """Deterministic rolls: the n-th roll of a kind depends only on (seed, kind, n).

    So a given sequence of requests meets the same faults on every run.
    """

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._counts: Counter[str] = Counter()

    def roll(self, kind: str, rate: float) -> bool:
        if rate <= 0:
            return False
        n = self._counts[kind]
        self._counts[kind] += 1
        return unit(self._seed, "fault", kind, n) < rate
