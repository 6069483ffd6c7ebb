"""气象局 weather bureau: observations API (stations, hourly observations) and the CAP warning feed.

``source`` pages the API and reads the feed; ``cap`` parses CAP 1.2 messages
(both profiles) against the schema in ``schemas/``.
"""

from connectors.weather.source import DATASETS, WeatherSource, create

__all__ = ["DATASETS", "WeatherSource", "create"]
