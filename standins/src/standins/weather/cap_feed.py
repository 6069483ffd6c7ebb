"""The CAP warning endpoints of the weather stand-in (weather.md, "Warnings: CAP feed").

- ``GET /cap/feed?since=<ISO 8601 with offset>``: an Atom 1.0 feed, newest entry
  first, of the entries with ``since <= updated <= now`` (``since`` optional: all
  of them). Each entry: ``<id>`` the CAP identifier, ``<updated>``, ``<link href>``
  (absolute) to the message. One message is listed twice (same identifier).
- ``GET /cap/messages/{identifier}.xml``: the message; 404 until the clock has
  passed its first ``<updated>`` (the stand-in does not leak the future).
- ``GET /__admin/cap/canary``: what a parser that resolves the XXE message's
  external entity would fetch; it only counts hits (``/__admin/info``: ``cap.canary_hits``).
- ``POST /__admin/cap/publish``, ``GET /__admin/cap/published``: publish a warning
  now, list those published so (:mod:`standins.weather.cap_publish`).

Both API routes sit behind the service's guard (faults, X-Api-Key, rate limit).

The anchor hour ``A`` of the scenario (:mod:`standins.weather.cap_scenario`) is
fixed at first use: by default the next whole hour after the sandbox clock's
"now" at that moment, so every warning is still to come and appears as the clock
moves (an ingest right after start-up finds none); ``cap_start="storm"`` puts it
one hour before the observations' storm, so the rainstorm warnings cover the
rain in the observations (and the first part of the episode is already
published); a datetime places it exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from standins.common.clock import SandboxClock
from standins.common.http import json_error
from standins.common.timefmt import as_aware, ceil_hour, iso_cst, parse_iso_with_offset
from standins.weather.cap_messages import CANARY_PATH, render
from standins.weather.cap_publish import PublishRequest, build_warning, publish_routes
from standins.weather.cap_scenario import CapWarning, background, episode, fault_messages

if TYPE_CHECKING:
    from standins.weather.app import WeatherFaults, WeatherService

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
CAP_TYPE = "application/cap+xml"
CapStart = datetime | str | None


class CapFeed:
    """The warnings on offer and when each becomes visible.

    The scenario's messages are fixed with the anchor; :meth:`publish` appends
    more. One re-entrant lock guards the anchor and the published list.
    """

    def __init__(
        self,
        *,
        seed: int,
        scale: float,
        clock: SandboxClock,
        faults: WeatherFaults,
        start: CapStart,
        storm_start: Callable[[], datetime],
        storm: str = "season",
    ) -> None:
        if start is not None and not isinstance(start, datetime) and start != "storm":
            raise ValueError(f"cap_start must be a datetime, 'storm' or None, not {start!r}")
        self.seed = seed
        self.scale = scale
        self.clock = clock
        self.faults = faults
        self._start = start
        self._storm_start = storm_start
        self._storm = storm
        self._anchor: datetime | None = None
        self._regular: list[CapWarning] = []
        self._faulty: dict[str, list[CapWarning]] = {}
        self._published: list[CapWarning] = []
        self._lock = threading.RLock()
        self.canary_hits = 0

    @property
    def anchor(self) -> datetime:
        with self._lock:
            if self._anchor is None:
                if isinstance(self._start, datetime):
                    anchor = as_aware(self._start)
                elif self._start == "storm":
                    anchor = self._storm_start() - timedelta(hours=1)
                else:
                    anchor = ceil_hour(self.clock())
                self._anchor = anchor
                self._regular = episode(anchor, self._storm) + background(self.seed, self.scale, anchor)
                self._faulty = fault_messages(anchor)
            return self._anchor

    def warnings(self) -> list[CapWarning]:
        """Every message on offer now (fault messages only while their switch is on)."""
        with self._lock:
            _ = self.anchor
            published = list(self._published)
        switched_on = [w for switch, ws in self._faulty.items() if getattr(self.faults, switch) for w in ws]
        return [*self._regular, *switched_on, *published]

    def published(self) -> list[CapWarning]:
        """The messages added by :meth:`publish`, oldest first."""
        with self._lock:
            return list(self._published)

    def publish(self, request: PublishRequest) -> CapWarning:
        """Add ``request``'s message, sent now (to the second); ``ValueError`` for an unknown reference."""
        with self._lock:
            now = self.clock()
            listed = {w.identifier: w for w in self.warnings() if w.sent <= now}
            unknown = [i for i in request.references if i not in listed]
            if unknown:
                raise ValueError(
                    f"references: no message {', '.join(repr(i) for i in unknown)} in the feed now; "
                    "an Update or Cancel names a message already published"
                )
            sent = now.replace(microsecond=0)
            references = tuple(listed[i] for i in request.references)
            warning = build_warning(
                request, key=f"published-{len(self._published) + 1}", sent=sent, references=references
            )
            # Every identifier the feed may ever list, fault messages included, so none is reused.
            taken = {w.identifier for w in [*self._regular, *self._published]}
            taken |= {w.identifier for ws in self._faulty.values() for w in ws}
            while warning.identifier in taken:
                warning = replace(warning, sequence=warning.sequence + 1)
            self._published.append(warning)
            return warning

    def entries(self) -> list[tuple[datetime, CapWarning]]:
        """(updated, message) for every listing, the repeats included, oldest first."""
        listed = [(moment, w) for w in self.warnings() for moment in (w.sent, *w.repeats)]
        return sorted(listed, key=_entry_order)

    def visible(self, now: datetime, since: datetime | None = None) -> list[tuple[datetime, CapWarning]]:
        return [(u, w) for u, w in self.entries() if u <= now and (since is None or u >= since)]

    def find(self, identifier: str, now: datetime) -> CapWarning | None:
        for w in self.warnings():
            if w.identifier == identifier and w.sent <= now:
                return w
        return None

    def info(self) -> dict[str, object]:
        now = self.clock()
        return {
            "start": iso_cst(self.anchor),
            "messages": len(self.warnings()),
            "published": len({w.identifier for _, w in self.visible(now)}),
            "canary_hits": self.canary_hits,
            "admin_published": len(self.published()),
        }


def _entry_order(item: tuple[datetime, CapWarning]) -> tuple[datetime, int]:
    # Messages of one second (published together) in the order of their 序号.
    return item[0], item[1].sequence


def render_feed(entries: list[tuple[datetime, CapWarning]], now: datetime, base_url: str) -> bytes:
    def sub(parent: Element, tag: str, text: str | None = None, **attrs: str) -> Element:
        child = SubElement(parent, tag, attrs)
        child.text = text
        return child

    base = base_url.rstrip("/")
    # The namespace is declared as the default on <feed> (ElementTree's default_namespace
    # option cannot serialise Atom's unqualified attributes such as rel and href).
    feed = Element("feed", xmlns=ATOM_NS)
    sub(feed, "id", "urn:cn:gov:haicheng:qxj:cap-feed")
    sub(feed, "title", "海城市气象局 预警信息 (CAP)")
    sub(feed, "updated", iso_cst(max((u for u, _ in entries), default=now)))
    sub(feed, "link", rel="self", href=f"{base}/cap/feed")
    author = sub(feed, "author")
    sub(author, "name", "海城市气象局")
    for updated, w in sorted(entries, key=_entry_order, reverse=True):
        entry = sub(feed, "entry")
        sub(entry, "id", w.identifier)
        sub(entry, "title", w.headline)
        sub(entry, "updated", iso_cst(updated))
        sub(entry, "link", rel="alternate", type=CAP_TYPE, href=f"{base}/cap/messages/{quote(w.identifier)}.xml")
        sub(entry, "category", term=w.signal_code, label=w.signal)
        sub(entry, "summary", f"{w.msg_type}: {w.headline}")
    indent(feed, space="  ")
    return tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def cap_routes(service: WeatherService) -> list[Route]:
    async def feed_endpoint(request: Request) -> Response:
        refused = await service.guard(request)
        if refused is not None:
            return refused
        raw_since = request.query_params.get("since")
        try:
            since = parse_iso_with_offset(raw_since, "since") if raw_since else None
        except ValueError as exc:
            return json_error(400, str(exc))
        now = service.clock()
        body = render_feed(service.cap.visible(now, since), now, str(request.base_url))
        return Response(body, media_type=ATOM_TYPE)

    async def message_endpoint(request: Request) -> Response:
        refused = await service.guard(request)
        if refused is not None:
            return refused
        identifier = request.path_params["identifier"]
        warning = service.cap.find(identifier, service.clock())
        if warning is None:
            return json_error(404, f"no published message {identifier!r}")
        return Response(render(warning, str(request.base_url)), media_type=CAP_TYPE)

    async def canary_endpoint(request: Request) -> Response:
        service.cap.canary_hits += 1
        return PlainTextResponse("canary: an XML parser resolved an external entity\n")

    return [
        Route("/cap/feed", feed_endpoint, methods=["GET"]),
        Route("/cap/messages/{identifier}.xml", message_endpoint, methods=["GET"]),
        Route(CANARY_PATH, canary_endpoint, methods=["GET"]),
        *publish_routes(service),
    ]
