"""Stand-in for the 气象局 weather bureau API: stations and hourly observations.

Contract: ``/work/shared/interfaces/weather.md``. Build an app with
:func:`sandbox.weather.app.create_app`. The CAP warning feed is not served yet.
"""

from __future__ import annotations

from sandbox.weather.app import WeatherFaults, create_app

__all__ = ["WeatherFaults", "create_app"]
