"""Where the default storm lies: whatever the hour a sandbox starts, its warning episode is complete."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from standins.common.timefmt import CST
from standins.weather.cap_scenario import episode
from standins.weather.storm import STORM_HOURS, default_storm_start


@pytest.mark.parametrize("minute_of_day", range(0, 24 * 60, 20))
def test_the_episode_is_over_and_the_storm_recent_at_any_start_time(minute_of_day: int) -> None:
    now = datetime(2026, 12, 2, tzinfo=CST) + timedelta(minutes=minute_of_day)
    start = default_storm_start(now)
    assert (start.hour, start.minute) == (14, 0)
    messages = episode(start - timedelta(hours=1))  # cap_start="storm": one hour before the storm
    assert max(m.sent for m in messages) < now, "the rainstorm Cancel and the rest of the episode are sent"
    peak = start + timedelta(hours=STORM_HOURS / 2)
    assert timedelta(hours=11) <= now - peak <= timedelta(hours=35)
    assert now - start < timedelta(hours=48)


def test_restarts_in_the_same_part_of_the_day_keep_the_storm() -> None:
    morning = datetime(2026, 12, 2, 8, tzinfo=CST)
    assert default_storm_start(morning) == default_storm_start(morning + timedelta(hours=15))
    night = datetime(2026, 12, 2, 1, tzinfo=CST)
    assert default_storm_start(night) == default_storm_start(night + timedelta(hours=5))
