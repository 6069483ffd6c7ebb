"""The deterministic rainstorm episode downstream threshold detection relies on.

By default the storm runs 12 hours from 14:00 (Asia/Shanghai) of the day before
the sandbox clock's "now" at the first observation request, or of two days
before when "now" is earlier than 07:00: the CAP episode around it (one hour
before the storm to its last message 16 hours later, ``cap_scenario``) is then
always complete, whatever the hour a sandbox starts. Its peak lies 11 to 35
hours in the past (always inside the last 48 hours), and restarts in the same
part of the day keep the same storm. It is fixed once chosen (not tied
to the moving "now"), so history stays stable while tests advance the clock.
``create_app(storm_start=...)`` places it explicitly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from standins.common.determinism import unit
from standins.common.timefmt import CST, local_date
from standins.weather.stations import Station

STORM_HOURS = 12
# Rain core radius and the wider gust field, in degrees.
RAIN_RADIUS_DEG = 0.22
WIND_RADIUS_DEG = 0.35


@dataclass(frozen=True)
class Storm:
    start: datetime
    center_lon: float
    center_lat: float
    hours: int = STORM_HOURS

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)

    def envelope(self, hour: datetime) -> float:
        """0 outside the episode, rising to ~1 in its middle hours."""
        if not self.start <= hour < self.end:
            return 0.0
        phase = ((hour - self.start).total_seconds() / 3600 + 0.5) / self.hours
        return math.sin(math.pi * phase) ** 2

    def rain_core(self, station: Station) -> float:
        return math.exp(-((self._distance(station) / RAIN_RADIUS_DEG) ** 2))

    def wind_core(self, station: Station) -> float:
        return math.exp(-((self._distance(station) / WIND_RADIUS_DEG) ** 2))

    def _distance(self, station: Station) -> float:
        dx = (station.lon - self.center_lon) * math.cos(math.radians(self.center_lat))
        return math.hypot(dx, station.lat - self.center_lat)


# The warning episode's last message is 15 hours after the storm starts; 2 hours of margin.
EPISODE_DONE_AFTER = timedelta(hours=17)


def default_storm_start(created_at: datetime) -> datetime:
    day_before = local_date(created_at) - timedelta(days=1)
    start = datetime.combine(day_before, time(14, 0), tzinfo=CST)
    if created_at < start + EPISODE_DONE_AFTER:
        start -= timedelta(days=1)
    return start


def make_storm(seed: int, stations: list[Station], start: datetime) -> Storm:
    """Centre the storm on an active station in the eastern hills.

    Centring on a station (rather than a random point) guarantees that some
    station-hours cross the 50 mm/h, 17.2 m/s and 500 m thresholds.
    """
    active = [s for s in stations if s.active]
    eastern = [s for s in active if s.lon >= 122.85] or active or stations
    centre = min(eastern, key=lambda s: unit(seed, "storm-centre", s.station_id))
    return Storm(start=start, center_lon=centre.lon, center_lat=centre.lat)
