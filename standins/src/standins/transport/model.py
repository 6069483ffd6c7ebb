"""Records as versioned entities, and the change feed a list endpoint serves.

Every record is an :class:`Entity` whose whole life (created, corrected,
closed, deleted) is decided when it is generated; what the API shows at a
moment ``now`` is each entity's latest version with ``updated_at <= now``. So
moving the sandbox clock forward makes new changes appear, deterministically
for a seed, and a deleted record shows up as its one tombstone version
(``deleted: true``, stamped with the deletion time), never again as live.

Changes made through the admin API are versions too (an overlay per key); on
equal ``updated_at`` the admin version wins.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from standins.common.timefmt import iso_cst


@dataclass(frozen=True)
class Resource:
    """One list endpoint of the contract."""

    name: str  # as in the URL after /v2/: "road-events", "hazmat/carriers"
    key: str
    fields: tuple[str, ...]  # contract order, without updated_at / deleted

    @property
    def path(self) -> str:
        return f"/v2/{self.name}"


@dataclass(frozen=True)
class Version:
    at: datetime
    fields: Mapping[str, Any]
    deleted: bool = False

    def render(self) -> dict[str, Any]:
        return {**self.fields, "updated_at": iso_cst(self.at), "deleted": self.deleted}


@dataclass(frozen=True)
class Entity:
    key: str
    versions: tuple[Version, ...]  # ascending by ``at``

    def at(self, now: datetime) -> Version | None:
        i = bisect.bisect_right([v.at for v in self.versions], now)
        return self.versions[i - 1] if i else None


# A row of the feed: (updated_at, key, version). Sorted, it is the API's order.
Row = tuple[datetime, str, Version]


@dataclass
class Feed:
    """The change feed of one resource: generated entities plus admin versions."""

    resource: Resource
    # Entities that exist from the start (master data imported in one batch).
    master: list[Entity] = field(default_factory=list)
    # Entities created during an hour, generated on demand from ``hourly_from``.
    hourly: Callable[[datetime], list[Entity]] | None = None
    hourly_from: datetime | None = None
    overlay: dict[str, list[Version]] = field(default_factory=dict)
    _hours: dict[datetime, list[Entity]] = field(default_factory=dict)
    _revision: int = 0
    _cache: tuple[tuple[datetime, int], list[Row]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _entities(self, now: datetime) -> Iterable[Entity]:
        yield from self.master
        if self.hourly is None or self.hourly_from is None:
            return
        hour = self.hourly_from
        while hour <= now:
            if hour not in self._hours:
                self._hours[hour] = self.hourly(hour)
            yield from self._hours[hour]
            hour += timedelta(hours=1)

    def current(self, key: str, now: datetime) -> Version | None:
        """The version of ``key`` visible at ``now`` (a tombstone included)."""
        with self._lock:
            generated = next((e.at(now) for e in self._entities(now) if e.key == key), None)
            return self._merge(generated, key, now)

    def _merge(self, generated: Version | None, key: str, now: datetime) -> Version | None:
        admin = [v for v in self.overlay.get(key, ()) if v.at <= now]
        latest_admin = admin[-1] if admin else None
        if latest_admin is not None and (generated is None or latest_admin.at >= generated.at):
            return latest_admin
        return generated

    def rows(self, now: datetime) -> list[Row]:
        """Every entity's visible version at ``now``, in the API's (updated_at, key) order."""
        with self._lock:
            stamp = (now, self._revision)
            if self._cache is not None and self._cache[0] == stamp:
                return self._cache[1]
            seen: set[str] = set()
            rows: list[Row] = []
            for entity in self._entities(now):
                seen.add(entity.key)
                version = self._merge(entity.at(now), entity.key, now)
                if version is not None:
                    rows.append((version.at, entity.key, version))
            for key in self.overlay.keys() - seen:
                version = self._merge(None, key, now)
                if version is not None:
                    rows.append((version.at, key, version))
            rows.sort(key=lambda row: (row[0], row[1]))
            self._cache = (stamp, rows)
            return rows

    def add_version(self, key: str, version: Version) -> None:
        with self._lock:
            versions = self.overlay.setdefault(key, [])
            versions.append(version)
            versions.sort(key=lambda v: v.at)
            self._revision += 1
