"""The 自然资源局 WFS stand-in as a Starlette app (``GET /geoserver/wfs``).

Order of checks: ``slow_seconds``, ``outage`` and injected 503 (as the proxy in
front of GeoServer answers), then the WFS request itself. Every error of the
service is an OWS ``ExceptionReport`` (HTTP 400, or 200 with
``exceptions_http_200``). Features are answered in the order of ``sortBy``,
else by feature id; ``unstable_sort_rate`` shifts a page's window back by a few
features (an unstable ORDER BY, or rows changing while a client pages), so the
client sees duplicates across pages and misses as many features.

Between pulls the layers change through :class:`NaturalResourcesService`'s
``retire_hazard_point`` / ``add_hazard_point`` / ``add_mining_licence`` or
``POST /__admin/changes {"change": "<one of those>"}``.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from standins.common.clock import ClockFn, SandboxClock
from standins.common.determinism import rng, unit
from standins.common.faults import FaultDice, FaultSwitches
from standins.common.http import ADMIN_PREFIX, RequestStats, StatsMiddleware, admin_routes, json_error, read_json_object
from standins.common.timefmt import iso_cst, local_date
from standins.natural_resources import hazards, mining, shelters
from standins.natural_resources.malformed import malform
from standins.natural_resources.wfs import (
    GetFeature,
    Layer,
    WfsError,
    capabilities,
    exception_report,
    kvp,
    parse_get_feature,
)

PATH = "/geoserver/wfs"
LAYERS: dict[str, Layer] = {
    "dz:hazard_points": Layer(
        "dz:hazard_points",
        "http://www.haicheng.gov.cn/zrzy/dz",
        "地质灾害隐患点",
        "yhdbh",
        (
            "yhdbh",
            "mc",
            "lx",
            "gm",
            "gmdj",
            "xqdj",
            "wxrs",
            "wxhs",
            "wxcc",
            "xzqh",
            "cun",
            "fzcs",
            "jczrr",
            "zt",
            "gxsj",
        ),
        ("Point",),
    ),
    "kc:mining_rights": Layer(
        "kc:mining_rights",
        "http://www.haicheng.gov.cn/zrzy/kc",
        "采矿权",
        "xkzh",
        ("xkzh", "ksmc", "cqr", "tyshxydm", "kz", "kcfs", "yxqq", "yxqz", "xzqh", "zt"),
        ("Polygon", "MultiPolygon"),
    ),
    "yj:shelters": Layer(
        "yj:shelters",
        "http://www.haicheng.gov.cn/zrzy/yj",
        "应急避难场所",
        "bncsbh",
        ("bncsbh", "mc", "lb", "mj", "rnrs", "xzqh", "dz"),
        ("Point", "Polygon"),
    ),
}
DATE_FIELDS = frozenset({"gxsj", "yxqq", "yxqz"})
CHANGES = ("retire_hazard_point", "add_hazard_point", "add_mining_licence")


@dataclass
class NaturalResourcesFaults(FaultSwitches):
    outage: bool = False
    slow_seconds: float = 0.0
    fail_503_rate: float = 0.0
    # Share of features served damaged (bad geometry, missing key, no geometry); fixed per feature.
    malformed_rate: float = 0.0
    # Every ExceptionReport answered with HTTP 200 instead of 400.
    exceptions_http_200: bool = False
    # GetFeature fails inside the server (NoApplicableCode), as when its database is down.
    backend_error: bool = False
    # Share of GetFeature pages whose window is shifted back (duplicates across pages, missed features).
    unstable_sort_rate: float = 0.0


class NaturalResourcesService:
    def __init__(self, *, seed: int, scale: float, clock: SandboxClock, faults: NaturalResourcesFaults) -> None:
        self.seed = seed
        self.scale = scale
        self.clock = clock
        self.faults = faults
        self.dice = FaultDice(seed)
        self.stats = RequestStats()
        self.counters: Counter[str] = Counter()
        self._features: dict[str, list[dict[str, Any]]] | None = None

    # -- data -------------------------------------------------------------------------------------------
    @property
    def features(self) -> dict[str, list[dict[str, Any]]]:
        # Built on first use so that a clock frozen right after create_app() decides "today".
        if self._features is None:
            today = self.today()
            companies = mining.company_count(self.scale)
            self._features = {
                "dz:hazard_points": [
                    hazards.hazard_site(self.seed, i, today) for i in range(hazards.site_count(self.scale))
                ],
                "kc:mining_rights": [
                    mining.licence(self.seed, i, today, companies) for i in range(mining.licence_count(self.scale))
                ],
                "yj:shelters": [shelters.shelter(self.seed, i) for i in range(shelters.shelter_count(self.scale))],
            }
            for name, items in self._features.items():
                for fid, item in enumerate(items, start=1):
                    item["id"] = f"{LAYERS[name].local}.{fid}"
        return self._features

    def today(self) -> date:
        return local_date(self.clock())

    def keys(self, layer: str) -> list[str]:
        return [f["properties"][LAYERS[layer].key] for f in self.features[layer]]

    # -- changes between pulls --------------------------------------------------------------------------
    def retire_hazard_point(self, yhdbh: str | None = None) -> str:
        """核销 a site (after engineering works): zt 核销, fzcs 已销号, checked today."""
        items = self.features["dz:hazard_points"]
        live = [f for f in items if f["properties"]["zt"] == "在册"]
        if yhdbh is not None:
            live = [f for f in live if f["properties"]["yhdbh"] == yhdbh]
            if not live:
                raise ValueError(f"no registered hazard point {yhdbh!r}")
        treated = [f for f in live if f["properties"]["fzcs"] == "工程治理"] or live
        target = treated[int(unit(self.seed, "retire", len(items), self.counters["retired"]) * len(treated))]
        target["properties"].update(zt="核销", fzcs="已销号", gxsj=self.today().isoformat())
        self.counters["retired"] += 1
        return str(target["properties"]["yhdbh"])

    def add_hazard_point(self) -> str:
        items = self.features["dz:hazard_points"]
        site = hazards.hazard_site(self.seed, len(items), self.today())
        site["properties"]["gxsj"] = self.today().isoformat()
        site["id"] = f"hazard_points.{len(items) + 1}"
        items.append(site)
        return str(site["properties"]["yhdbh"])

    def add_mining_licence(self) -> str:
        """A new licence issued today for one of the county's mining companies."""
        items = self.features["kc:mining_rights"]
        new = mining.licence(self.seed, len(items), self.today(), mining.company_count(self.scale))
        today = self.today()
        years = rng(self.seed, "new-licence", len(items)).randrange(3, 11)
        new["properties"].update(
            yxqq=today.isoformat(),
            zt="有效",
            yxqz=today.replace(year=today.year + years, day=min(today.day, 28)).isoformat(),
        )
        props = new["properties"]
        props["xkzh"] = f"C2103002{today.year}{today.month:02d}{props['xkzh'][14:17]}{len(items) + 1:06d}"
        new["id"] = f"mining_rights.{len(items) + 1}"
        items.append(new)
        return str(props["xkzh"])

    def apply_change(self, change: str, **kwargs: Any) -> str:
        if change not in CHANGES:
            raise ValueError(f"unknown change {change!r} (known: {', '.join(CHANGES)})")
        return str(getattr(self, change)(**kwargs))

    # -- requests ---------------------------------------------------------------------------------------
    def answer_error(self, error: WfsError) -> Response:
        status = 200 if self.faults.exceptions_http_200 else 400
        self.counters[f"exception:{error.code}"] += 1
        return Response(exception_report(error), status_code=status, media_type="application/xml")

    async def wfs_endpoint(self, request: Request) -> Response:
        if self.faults.slow_seconds > 0:
            await asyncio.sleep(self.faults.slow_seconds)
        if self.faults.outage or self.dice.roll("503", self.faults.fail_503_rate):
            return Response(
                "<html><body><h1>503 Service Unavailable</h1></body></html>", status_code=503, media_type="text/html"
            )
        params = kvp(request.query_params)
        try:
            if (params.get("service") or "").upper() != "WFS":
                raise WfsError(
                    "InvalidParameterValue" if params.get("service") else "MissingParameterValue",
                    "service",
                    "service must be WFS",
                )
            operation = params.get("request")
            if not operation:
                raise WfsError("MissingParameterValue", "request", "Could not determine the requested operation")
            if operation.lower() == "getcapabilities":
                return Response(capabilities(LAYERS, str(request.url.replace(query=""))), media_type="application/xml")
            if operation.lower() != "getfeature":
                raise WfsError("OperationNotSupported", "request", f"{operation} is not supported by this server")
            query = parse_get_feature(params, LAYERS)
            if self.faults.backend_error:
                raise WfsError(
                    "NoApplicableCode",
                    None,
                    "java.io.IOException: Error occurred getting features: "
                    "could not acquire a connection from the pool (zrzy_gis)",
                )
            return JSONResponse(self.get_feature(query), media_type="application/json;charset=UTF-8")
        except WfsError as error:
            return self.answer_error(error)

    def get_feature(self, q: GetFeature) -> dict[str, Any]:
        items = self.features[q.layer.name]
        ordered = list(items)
        for name, descending in reversed(q.sort):
            ordered.sort(
                key=lambda f, n=name: (f["properties"].get(n) is None, f["properties"].get(n)), reverse=descending
            )
        total = len(ordered)
        start = q.start
        self.counters["getfeature"] += 1
        if start > 0 and self.dice.roll("unstable", self.faults.unstable_sort_rate):
            start = max(0, start - 1 - int(unit(self.seed, "shift", self.counters["getfeature"]) * 5))
            self.counters["unstable_pages"] += 1
        page = [] if q.hits_only else ordered[start : start + q.count]
        return {
            "type": "FeatureCollection",
            "features": [self._render(q.layer, f) for f in page],
            "totalFeatures": total,
            "numberMatched": total,
            "numberReturned": len(page),
            "timeStamp": self.clock().strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.clock().microsecond // 1000:03d}Z",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
        }

    def _render(self, layer: Layer, feature: dict[str, Any]) -> dict[str, Any]:
        props = dict(feature["properties"])
        for name in DATE_FIELDS & props.keys():
            # GeoServer writes java.sql.Date attributes as e.g. "2026-05-12Z" in GeoJSON.
            props[name] = f"{props[name]}Z" if props[name] else None
        out = {
            "type": "Feature",
            "id": feature["id"],
            "geometry": copy.deepcopy(feature["geometry"]),
            "geometry_name": "geom",
            "properties": props,
        }
        rate = self.faults.malformed_rate
        if rate > 0 and unit(self.seed, "malformed", feature["id"]) < rate:
            out = malform(self.seed, layer.key, out)
        return out

    async def stats_endpoint(self, request: Request) -> Response:
        return JSONResponse({"requests": self.stats.as_dict(), "counters": dict(self.counters)})

    async def info_endpoint(self, request: Request) -> Response:
        return JSONResponse(
            {
                "service": "natural_resources",
                "seed": self.seed,
                "scale": self.scale,
                "now": iso_cst(self.clock()),
                "layers": {name: len(items) for name, items in self.features.items()},
            }
        )

    async def changes_endpoint(self, request: Request) -> Response:
        try:
            body = await read_json_object(request)
            change = body.pop("change", None)
            if not isinstance(change, str):
                raise ValueError(f"body needs 'change', one of {', '.join(CHANGES)}")
            key = self.apply_change(change, **body)
        except (ValueError, TypeError) as exc:
            return json_error(400, str(exc))
        return JSONResponse({"change": change, "key": key})


def create_app(
    *,
    seed: int = 42,
    scale: float = 1.0,
    clock: ClockFn | None = None,
    faults: NaturalResourcesFaults | Mapping[str, Any] | None = None,
) -> Starlette:
    """The WFS stand-in. ``app.state.service`` is the :class:`NaturalResourcesService`, ``app.state.clock`` its clock.

    Admin (sandbox only): ``/__admin/{health,clock,faults}`` as on every stand-in, ``GET /__admin/stats``
    (requests by status, GetFeature and unstable-page counters), ``GET /__admin/info`` (feature counts) and
    ``POST /__admin/changes``.
    """
    switches = faults if isinstance(faults, NaturalResourcesFaults) else NaturalResourcesFaults()
    if isinstance(faults, Mapping):
        switches.update(faults)
    sandbox_clock = clock if isinstance(clock, SandboxClock) else SandboxClock(clock)
    service = NaturalResourcesService(seed=seed, scale=scale, clock=sandbox_clock, faults=switches)
    routes = [
        Route(PATH, service.wfs_endpoint, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/stats", service.stats_endpoint, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/info", service.info_endpoint, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/changes", service.changes_endpoint, methods=["POST"]),
        *admin_routes("natural_resources", sandbox_clock, switches),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(StatsMiddleware, stats=service.stats)])
    app.state.service = service
    app.state.clock = sandbox_clock
    return app


def dump_layer(app: Starlette, layer: str) -> str:
    """The layer's features as the service holds them (tests compare against it)."""
    return json.dumps(app.state.service.features[layer], ensure_ascii=False)
