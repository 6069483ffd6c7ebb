"""Stand-in for the 气象局 weather bureau API: stations, hourly observations, CAP warnings.

Contract: ``/work/shared/interfaces/weather.md``. Build an app with
``create_app(*, api_key, seed=42, scale=1.0, clock=None, faults=None, storm_start=None,
rate_limit_per_second=10, cap_start=None)`` (:func:`sandbox.weather.app.create_app`).

The CAP feed (:mod:`standins.weather.cap_feed`) publishes a fixed warning episode
from its anchor hour on; move the sandbox clock (``app.state.clock`` or
``POST /__admin/clock``) to see it unfold. ``cap_start="storm"`` lines the
rainstorm warnings up with the observations' storm (for demos). Fault switches
``cap_malformed``, ``cap_xxe``, ``cap_oversize`` add bad messages to the feed.
``POST /__admin/cap/publish`` adds a warning now (:mod:`standins.weather.cap_publish`;
client: :func:`standins.weather.admin_client.publish`).
"""

from __future__ import annotations

from standins.weather.app import WeatherFaults, create_app

__all__ = ["WeatherFaults", "create_app"]
