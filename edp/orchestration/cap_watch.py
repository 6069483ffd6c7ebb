"""The warning lane's watcher: a trigger in Airflow's triggerer that polls the weather bureau's CAP feed.

It reads only the feed's index (bounded, parsed by the connector's own parser)
every ``poll_seconds`` and fires an Asset event when an entry appears that it
has not seen, so the `warning_lane` DAG runs within seconds of a publication
instead of at the next hourly ingest. It fires once when it starts, so a
warning published while the triggerer was down is not left to the hourly run.
The source's URL and key are read at run time from the platform's settings:
nothing secret is serialised into Airflow's metadata.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

log = logging.getLogger(__name__)

# Entries can reach the feed a little after their <updated> (weather.md): look back this far.
WINDOW = timedelta(minutes=15)


def feed_keys(since: datetime) -> set[tuple[str, str]]:
    """(identifier, updated) of every readable entry of the feed since ``since``."""
    from edp.ingest.sources import build_source
    from edp.settings import get_settings

    source = build_source(get_settings(), "weather")
    try:
        _response, entries = source.feed(since)  # type: ignore[attr-defined]
    finally:
        source.close()
    return {(e.identifier, e.updated.isoformat()) for e in entries if e.identifier and e.updated and not e.problem}


class CapFeedTrigger(BaseEventTrigger):
    def __init__(self, poll_seconds: float = 5.0) -> None:
        super().__init__()
        self.poll_seconds = poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", {"poll_seconds": self.poll_seconds}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        seen: set[tuple[str, str]] | None = None
        while True:
            try:
                keys = await asyncio.to_thread(feed_keys, datetime.now(UTC) - WINDOW)
            except Exception as exc:  # a source that is down: the hourly ingest reports it; keep watching
                log.warning("CAP feed not read (%s: %s); trying again in %.0f s", type(exc).__name__, exc, 30.0)
                await asyncio.sleep(30.0)
                continue
            new = keys if seen is None else keys - seen
            if seen is None or new:
                latest = max((updated for _, updated in new), default=None)
                yield TriggerEvent({"new_entries": len(new), "latest_updated": latest, "first_poll": seen is None})
            seen = keys if seen is None else (seen | keys)
            # Forget what has left the window: the set stays the size of fifteen minutes of warnings.
            seen &= keys
            await asyncio.sleep(self.poll_seconds)
