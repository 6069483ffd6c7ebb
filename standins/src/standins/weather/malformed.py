"""Damage done to observation rows by the ``malformed_rate`` fault switch."""

from __future__ import annotations

from standins.common.determinism import rng, unit
from standins.weather.observations import NUMERIC_FIELDS, RowKey

_BAD_NUMBERS = ("abc", "", "12,5", "--", "NaN")


def is_malformed(seed: int, key: RowKey, rate: float) -> bool:
    # Per row, not per request: a broken row stays broken when re-read, as in real feeds.
    return rate > 0 and unit(seed, "malformed", int(key[0].timestamp()), key[1]) < rate


def malform(seed: int, key: RowKey, row: dict[str, object]) -> dict[str, object]:
    r = rng(seed, "malform-how", int(key[0].timestamp()), key[1])
    damaged = dict(row)
    how = r.randrange(3)
    if how == 0:
        damaged["obs_time"] = "not-a-time"
    elif how == 1:
        damaged["station_id"] = None
    else:
        damaged[r.choice(NUMERIC_FIELDS)] = r.choice(_BAD_NUMBERS)
    return damaged
