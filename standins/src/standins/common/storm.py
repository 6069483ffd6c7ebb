"""The one storm every stand-in sees: when it starts, where it centres, how it rises and falls.

The weather stand-in (observations and the CAP warning episode,
:mod:`standins.weather.storm`) and the water stand-in (rain gauges, rivers and
reservoirs, :mod:`standins.water.series`) both take the storm from here, so the
bureau's stations and the water bureau's gauges see the same storm at the same
hours over the same place: 12 hours from 14:00 (Asia/Shanghai) of the day
before the moment the sandbox starts (or of two days before when the CAP
episode around it would not yet be over, see :func:`default_storm_start`),
centred over the 千山 foothills between 孤山 and 析木 (海城河's upper course),
peaking in its sixth hour. What falls follows the season (:func:`storm_episode`):
the summer 大暴雨 from June to September, reduced rain in April, May and
October, a light snowfall from November to March, unless ``storm="summer"``
forces the rainstorm (tests and demos of rainstorm detection). The sandbox computes the start once and hands it to
both (``standins.serve``); each stand-in alone computes the same from its clock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from standins.common.timefmt import CST, as_aware, local_date

STORM_HOURS = 12
# Share of the peak hour's rain in each hour of the storm (the peak in hour 5, counted from 0).
STORM_SHAPE = (0.1, 0.25, 0.45, 0.7, 0.9, 1.0, 0.75, 0.5, 0.3, 0.18, 0.1, 0.05)
STORM_PEAK_HOUR = STORM_SHAPE.index(1.0)
# (lon, lat) of the storm's centre: the 千山 foothills between 孤山 and 析木.
STORM_CENTRE = (122.97, 40.70)
STORM_START_LOCAL = time(14, 0)
# The CAP warning episode's last message is 15 hours after the storm starts; 2 hours of margin.
EPISODE_DONE_AFTER = timedelta(hours=17)

assert len(STORM_SHAPE) == STORM_HOURS


def default_storm_start(created_at: datetime) -> datetime:
    """14:00 local of the day before ``created_at`` (two days before if its episode would not be over)."""
    day_before = local_date(created_at) - timedelta(days=1)
    start = datetime.combine(day_before, STORM_START_LOCAL, tzinfo=CST)
    if as_aware(created_at) < start + EPISODE_DONE_AFTER:
        start -= timedelta(days=1)
    return start


def storm_share(start: datetime, hour: datetime) -> float:
    """The share of the peak hour's rain falling in the clock hour starting at ``hour`` (0 outside the storm).

    Both arguments aware, or both naive local time (the water bureau's clock).
    """
    k = (hour - start) / timedelta(hours=1)
    if k < 0 or k >= STORM_HOURS or k != int(k):
        return 0.0
    return STORM_SHAPE[int(k)]


# -- the season -------------------------------------------------------------------------------------------------
#
# The episode at the storm's hours takes the character of its month (``storm="season"``, the default), unless
# a caller forces the summer rainstorm (``storm="summer"``: the tests and demos of rainstorm detection).
# 海城's precipitation climate (to_confirm: the normals of 海城/鞍山 stations as commonly cited, about 700 mm a
# year, July and August the wettest, December to February a few millimetres a month, fallen as snow).

STORM_MODES = ("season", "summer")
ENV_STORM = "EDP_SANDBOX_STORM"
MONTHLY_PRECIP_MM = {1: 5, 2: 8, 3: 15, 4: 35, 5: 55, 6: 90, 7: 185, 8: 165, 9: 65, 10: 40, 11: 18, 12: 7}
SNOW_MONTHS = frozenset({11, 12, 1, 2, 3})


@dataclass(frozen=True)
class Episode:
    """What falls during the shared storm hours: the summer storm's amounts times ``scale``.

    ``kind`` is "rainstorm" (Jun–Sep, or forced), "rain" (Apr, May, Oct: reduced, no 短时强降水) or "snow"
    (Nov–Mar: 5–10 mm water equivalent in 12 hours at the centre). ``rises`` is False when the
    episode must not lift rivers and reservoirs (snow lies; it does not run off).
    """

    kind: str
    scale: float

    @property
    def snow(self) -> bool:
        return self.kind == "snow"

    @property
    def rainstorm(self) -> bool:
        return self.kind == "rainstorm"

    @property
    def rises(self) -> bool:
        return not self.snow


SUMMER = Episode("rainstorm", 1.0)
# Scales of the summer storm (centre: ~137 mm in 12 h, 26 mm in its peak hour).
_BY_MONTH = {
    **dict.fromkeys((6, 7, 8, 9), SUMMER),
    **dict.fromkeys((4, 5, 10), Episode("rain", 0.4)),  # ~55 mm in 12 h at the centre, peak hour ~10 mm
    **dict.fromkeys(sorted(SNOW_MONTHS), Episode("snow", 0.055)),  # ~7.5 mm in 12 h (大雪), peak hour ~1.4 mm
}


def check_mode(storm: str) -> str:
    if storm not in STORM_MODES:
        raise ValueError(f"storm must be one of {STORM_MODES}, not {storm!r}")
    return storm


def storm_episode(start: datetime, storm: str = "season") -> Episode:
    """The episode of a storm starting at ``start`` (aware, or naive local): its month's, or forced summer."""
    if check_mode(storm) == "summer":
        return SUMMER
    month = (start.astimezone(CST) if start.tzinfo else start).month
    return _BY_MONTH[month]


def storm_from_env() -> str:
    """The sandbox's storm setting (``EDP_SANDBOX_STORM``; default "season")."""
    return check_mode(os.environ.get(ENV_STORM) or "season")
