"""The one storm every stand-in sees: when it starts, where it centres, how it rises and falls.

The weather stand-in (observations and the CAP warning episode,
:mod:`standins.weather.storm`) and the water stand-in (rain gauges, rivers and
reservoirs, :mod:`standins.water.series`) both take the storm from here, so the
bureau's stations and the water bureau's gauges see the same storm at the same
hours over the same place: 12 hours from 14:00 (Asia/Shanghai) of the day
before the moment the sandbox starts (or of two days before when the CAP
episode around it would not yet be over, see :func:`default_storm_start`),
centred over the 千山 foothills between 孤山 and 析木 (海城河's upper course),
peaking in its sixth hour. The sandbox computes the start once and hands it to
both (``standins.serve``); each stand-in alone computes the same from its clock.
"""

from __future__ import annotations

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
