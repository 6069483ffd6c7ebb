"""How the bureau stamps ``updated_at``: shared stamps are the normal case.

Changes arriving through a feed are stamped with the second of the sync that
brought them (the provincial hazmat waybill platform pushes every 10 minutes,
the expressway operator every 5), and a batch import stamps every record it
writes with one second. So many records share one ``updated_at``.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from standins.common.timefmt import CST


def ceil_to(moment: datetime, minutes: int) -> datetime:
    """The next sync boundary at or after ``moment`` (whole seconds, local time)."""
    local = moment.astimezone(CST).replace(microsecond=0)
    day = local.replace(hour=0, minute=0, second=0)
    step = minutes * 60
    offset = (local - day).total_seconds()
    return day + timedelta(seconds=math.ceil(offset / step) * step)


def to_second(moment: datetime) -> datetime:
    return moment.astimezone(CST).replace(microsecond=0)


def poisson(r: random.Random, mean: float) -> int:
    """Knuth's method; means here are small."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= r.random()
        if p <= limit:
            return k
        k += 1


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())
