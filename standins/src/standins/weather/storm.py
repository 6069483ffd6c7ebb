"""The deterministic rainstorm episode downstream threshold detection relies on.

The storm is the one the water stand-in sees too (:mod:`standins.common.storm`:
same hours, same shape, same place). By default it runs 12 hours from 14:00
(Asia/Shanghai) of the day before the sandbox clock's "now" at the first
observation request, or of two days before when "now" is earlier than 07:00:
the CAP episode around it (one hour before the storm to its last message 16
hours later, ``cap_scenario``) is then always complete, whatever the hour a
sandbox starts. Its peak lies 11 to 35
hours in the past (always inside the last 48 hours), and restarts in the same
part of the day keep the same storm. It is fixed once chosen (not tied
to the moving "now"), so history stays stable while tests advance the clock.
``create_app(storm_start=...)`` places it explicitly; what falls follows the
season unless ``create_app(storm="summer")`` forces the rainstorm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from standins.common.storm import (
    EPISODE_DONE_AFTER,
    STORM_CENTRE,
    STORM_HOURS,
    SUMMER,
    Episode,
    default_storm_start,
    storm_episode,
    storm_share,
)
from standins.weather.stations import Station

__all__ = ["EPISODE_DONE_AFTER", "STORM_HOURS", "Storm", "default_storm_start", "make_storm"]

# Rain core radius and the wider gust field, in degrees.
RAIN_RADIUS_DEG = 0.22
WIND_RADIUS_DEG = 0.35


@dataclass(frozen=True)
class Storm:
    start: datetime
    center_lon: float
    center_lat: float
    hours: int = STORM_HOURS
    episode: Episode = SUMMER  # what falls: the season's (standins.common.storm.storm_episode)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)

    def envelope(self, hour: datetime) -> float:
        """0 outside the episode, 1 in its peak hour (the shared storm shape, standins.common.storm)."""
        return storm_share(self.start, hour)

    def rain_core(self, station: Station) -> float:
        return math.exp(-((self._distance(station) / RAIN_RADIUS_DEG) ** 2))

    def wind_core(self, station: Station) -> float:
        return math.exp(-((self._distance(station) / WIND_RADIUS_DEG) ** 2))

    def _distance(self, station: Station) -> float:
        dx = (station.lon - self.center_lon) * math.cos(math.radians(self.center_lat))
        return math.hypot(dx, station.lat - self.center_lat)


def make_storm(seed: int, stations: list[Station], start: datetime, storm: str = "season") -> Storm:
    """Centre the storm on the active station nearest the shared storm centre (standins.common.storm).

    Centring on a station (rather than the point itself) guarantees that some
    station-hours cross the rainstorm, 17.2 m/s and 500 m thresholds. ``seed``
    is kept for the signature: the place no longer depends on it, so the
    weather and water stand-ins agree whatever the seed. ``storm`` "season" gives the
    episode its month's character, "summer" forces the rainstorm.
    """
    del seed
    active = [s for s in stations if s.active] or stations
    lon, lat = STORM_CENTRE
    scale = math.cos(math.radians(lat))
    centre = min(active, key=lambda s: (math.hypot((s.lon - lon) * scale, s.lat - lat), s.station_id))
    return Storm(start=start, center_lon=centre.lon, center_lat=centre.lat, episode=storm_episode(start, storm))
