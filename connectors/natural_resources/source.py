"""自然资源局 natural-resources bureau: WFS 2.0 layers as snapshots (natural_resources.md).

Each pull reads a whole layer with ``GetFeature`` paging (``startIndex`` /
``count`` ≤ 1000, ``sortBy`` on the layer's key, ``numberMatched``) and is a
full snapshot: the loader stores every snapshot whole, so the history of each
site, licence and shelter is the sequence of snapshots.

Decisions, since the contract has no change timestamp:

- **Complete or nothing.** A snapshot with a feature missing would read as a
  deletion, so after paging the connector checks that it saw ``numberMatched``
  distinct features. Unstable paging (duplicates across pages, features
  missed) is re-read, up to ``snapshot_attempts`` reads whose union must be
  complete; otherwise :class:`IncompleteSnapshot` is raised and nothing is loaded.
- **An unchanged snapshot is skipped.** The cursor is
  ``"<seen at, UTC> sha256=<digest>"``: the digest of the snapshot's
  (pseudonymised) features, in key order, independent of paging. When a pull's
  digest equals the cursor's, ``read`` yields no page: no rows reach raw and
  the cursor stays. The timestamp first keeps cursors increasing as strings
  (``ops.advance_cursor`` never moves a cursor back).
- **Personal information.** ``jczrr`` 监测责任人 is a person: it is replaced
  by a keyed pseudonym and a masked name while the page is parsed, and the
  page's landed body is that pseudonymised rendering of the FeatureCollection,
  never the clear answer (pages of the other layers are landed as received).
  ``cqr`` 采矿权人 is an enterprise and stays as is.
- **Geometry** is kept three ways: ``geometry_geojson`` (the GeoJSON geometry
  as text), ``geometry_wkt`` and a representative ``lon`` / ``lat`` (the point,
  or the polygon's centroid when it lies inside, else a point inside).
  A feature with a missing, unreadable or invalid geometry is quarantined.
- **ExceptionReport** documents (with HTTP 400, 500 or even 200) raise
  :class:`~connectors.natural_resources.ows.WfsExceptionReport`, a
  ``SourceRejected`` naming exceptionCode, locator and text.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.base import CheckResult, CheckStatus, Page, Source
from connectors.context import SourceContext
from connectors.http import TRANSIENT_STATUS, HttpClient, SourceRejected, SourceUnavailable, install_body_limit
from connectors.limits import Limits, check_page
from connectors.natural_resources.geo import GeometryError, describe
from connectors.natural_resources.ows import exception_report, feature_type_names, looks_like_xml
from connectors.pii import Pseudonymizer, mask_name
from connectors.schema import Dataset, Field, FieldError
from edp.errors import DataRejected

log = logging.getLogger(__name__)

SOURCE = "natural_resources"
PATH = "/geoserver/wfs"
MAX_COUNT = 1000
MAX_PAGES = 10_000  # a server that never stops paging is a bug, not a layer of ten million features


class IncompleteSnapshot(DataRejected):
    """Paging did not deliver every feature of the layer (unstable paging): nothing of it is loaded.

    Not a ``SourceUnavailable``: the server answers, and the other layers may page fine.
    """


_XZQH = Field("xzqh", "text", description="所属乡镇 12-digit division code")


def _geometry_fields() -> tuple[Field, ...]:
    return (
        Field("feature_id", "text", description="要素标识 WFS feature id (e.g. hazard_points.12)"),
        Field("geometry_geojson", "text", required=True, description="几何 GeoJSON geometry, CGCS2000 lon/lat"),
        Field("geometry_wkt", "text", description="几何 WKT of the geometry"),
        Field("lon", "float", description="代表点经度 representative longitude (point, or a point on the polygon)"),
        Field("lat", "float", description="代表点纬度 representative latitude"),
    )


HAZARD_POINTS = Dataset(
    source=SOURCE,
    name="hazard_points",
    title="地质灾害隐患点 geological-hazard sites",
    mode="snapshot",
    primary_key=("yhdbh",),
    fields=(
        Field("yhdbh", "text", required=True, description="隐患点编号 site number (unique)"),
        Field("mc", "text", description="名称 name"),
        Field("lx", "text", description="类型 type: 滑坡, 崩塌, 泥石流, 地面塌陷, 地裂缝, 地面沉降"),
        Field("gm", "float", description="规模 volume (m³)"),
        Field("gmdj", "text", description="规模等级 size grade: 小型/中型/大型/特大型"),
        Field("xqdj", "text", description="险情等级 danger grade by people threatened: 小型/中型/大型/特大型"),
        Field("wxrs", "int", description="威胁人数 people threatened"),
        Field("wxhs", "int", description="威胁户数 households threatened"),
        Field("wxcc", "float", description="威胁财产 property threatened (万元, 10k CNY)"),
        _XZQH,
        Field("cun", "text", description="村 village"),
        Field("fzcs", "text", description="防治措施 measure: 监测, 搬迁避让, 工程治理, 已销号"),
        Field(
            "jczrr_pseudonym",
            "text",
            pii=True,
            description="监测责任人 person responsible for monitoring: keyed pseudonym (never the name)",
        ),
        Field("jczrr_masked", "text", pii=True, description="监测责任人 masked display form (张*)"),
        Field("zt", "text", description="状态 status: 在册 registered / 核销 written off"),
        Field("gxsj", "date", description="最近核查日期 last inspection date"),
        *_geometry_fields(),
    ),
    extra={"layer": "dz:hazard_points", "geometry_types": ("Point",)},
)

MINING_RIGHTS = Dataset(
    source=SOURCE,
    name="mining_rights",
    title="采矿权 mining licences",
    mode="snapshot",
    primary_key=("xkzh",),
    fields=(
        Field("xkzh", "text", required=True, description="许可证号 licence number (unique)"),
        Field("ksmc", "text", description="矿山名称 mine name"),
        Field("cqr", "text", description="采矿权人 holder (an enterprise, not personal information)"),
        Field("tyshxydm", "text", description="统一社会信用代码 holder's unified social credit code (GB 32100)"),
        Field("kz", "text", description="开采矿种 mineral: 菱镁矿, 滑石, 铁矿, 建筑用石料, ..."),
        Field("kcfs", "text", description="开采方式 mining method: 露天 open-pit / 地下 underground"),
        Field("yxqq", "date", description="有效期起 valid from"),
        Field("yxqz", "date", description="有效期止 valid until"),
        _XZQH,
        Field("zt", "text", description="状态 status: 有效 valid / 过期 expired / 注销 cancelled"),
        *_geometry_fields(),
    ),
    extra={"layer": "kc:mining_rights", "geometry_types": ("Polygon", "MultiPolygon")},
)

SHELTERS = Dataset(
    source=SOURCE,
    name="shelters",
    title="应急避难场所 emergency shelters",
    mode="snapshot",
    primary_key=("bncsbh",),
    fields=(
        Field("bncsbh", "text", required=True, description="编号 shelter number (unique)"),
        Field("mc", "text", description="名称 name"),
        Field("lb", "text", description="类别 class (GB 21734): Ⅰ类 ≥ 30 days, Ⅱ类 10–30 days, Ⅲ类 < 10 days"),
        Field("mj", "float", description="有效避难面积 effective area (m²)"),
        Field("rnrs", "int", description="容纳人数 capacity (people)"),
        _XZQH,
        Field("dz", "text", description="地址 address"),
        *_geometry_fields(),
    ),
    extra={"layer": "yj:shelters", "geometry_types": ("Point", "Polygon")},
)

DATASETS = {ds.name: ds for ds in (HAZARD_POINTS, MINING_RIGHTS, SHELTERS)}
DATE_FIELDS = {"gxsj", "yxqq", "yxqz"}


@dataclass
class _Snapshot:
    """What one pull of a layer saw: every page answered, and the union of distinct features."""

    pages: list[Page] = field(default_factory=list)
    features: dict[str, dict[str, Any]] = field(default_factory=dict)
    matched: int | None = None
    attempts: int = 0


def _identity(feature: dict[str, Any], key: str) -> str:
    """The feature id GeoServer gives; else the key; else the content (a malformed feature stays distinct)."""
    if feature.get("id"):
        return str(feature["id"])
    props = feature.get("properties") or {}
    if props.get(key) not in (None, ""):
        return f"{key}={props[key]}"
    return "sha256=" + hashlib.sha256(json.dumps(feature, sort_keys=True, default=str).encode()).hexdigest()


def snapshot_digest(features: dict[str, dict[str, Any]]) -> str:
    """sha256 of the features in identity order: the same layer content gives the same digest however paged."""
    digest = hashlib.sha256()
    for ident in sorted(features):
        digest.update(
            json.dumps(features[ident], ensure_ascii=False, sort_keys=True, default=str).encode(
                "utf-8", "backslashreplace"
            )
        )
        digest.update(b"\n")
    return digest.hexdigest()


def cursor_digest(cursor: str | None) -> str | None:
    if not cursor or "sha256=" not in cursor:
        return None
    return cursor.rsplit("sha256=", 1)[1].strip()


class NaturalResourcesSource(Source):
    name = SOURCE
    title = "自然资源局 natural-resources bureau (WFS 2.0)"

    def __init__(
        self,
        base_url: str,
        pii_key: bytes,
        *,
        page_size: int = MAX_COUNT,
        snapshot_attempts: int = 4,
        max_seconds: float = 120.0,
        timeout: float = 60.0,
        max_attempts: int = 8,
        transport: httpx.BaseTransport | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.http = HttpClient(
            base_url,
            source=SOURCE,
            max_seconds=max_seconds,
            timeout=timeout,
            max_attempts=max_attempts,
            max_body_bytes=self.limits.max_body_bytes,
        )
        if transport is not None:  # tests: recorded answers
            self.http.client.close()
            self.http.client = httpx.Client(base_url=base_url, transport=transport, timeout=timeout)
            install_body_limit(self.http.client)
        # An ExceptionReport is a rejection whatever its status (even 200), and its text is the message.
        self.http.client.event_hooks["response"].append(self._raise_exception_report)
        # Never ask for more than a page may hold (limits.max_page_records).
        self.page_size = max(1, min(int(page_size), MAX_COUNT, self.limits.max_page_records))
        self.snapshot_attempts = max(1, int(snapshot_attempts))
        self.pseudonyms = Pseudonymizer(pii_key)

    def datasets(self) -> dict[str, Dataset]:
        return dict(DATASETS)

    # -- check ------------------------------------------------------------------------------------------
    def check(self) -> CheckResult:
        try:
            response = self.http.get(PATH, params={"service": "WFS", "version": "2.0.0", "request": "GetCapabilities"})
            offered = feature_type_names(response.content)
        except (SourceRejected, SourceUnavailable, DataRejected, ValueError) as exc:
            return CheckResult.failed(SOURCE, exc)
        wanted = [ds.extra["layer"] for ds in DATASETS.values()]
        missing = [layer for layer in wanted if layer not in offered]
        if missing:
            return CheckResult(
                SOURCE,
                False,
                f"GetCapabilities does not list {', '.join(missing)}",
                {"layers": offered, "missing": missing},
                CheckStatus.WRONG_CONTRACT,
            )
        return CheckResult(SOURCE, True, f"reachable, {len(wanted)} layers listed", {"layers": offered})

    # -- read -------------------------------------------------------------------------------------------
    def read(self, dataset: str, cursor: str | None, until: datetime) -> Iterator[Page]:
        if dataset not in DATASETS:
            raise KeyError(f"natural_resources has no dataset {dataset!r}")
        ds = DATASETS[dataset]
        snap = self._snapshot(ds)
        digest = snapshot_digest(snap.features)
        if digest == cursor_digest(cursor):
            log.info(
                "%s.%s: snapshot unchanged (%d features, sha256 %s…): nothing to load",
                SOURCE,
                dataset,
                len(snap.features),
                digest[:12],
            )
            return
        snap.pages[-1].cursor = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ} sha256={digest}"
        yield from snap.pages

    def _snapshot(self, ds: Dataset) -> _Snapshot:
        layer = ds.extra["layer"]
        snap = _Snapshot()
        while snap.attempts < self.snapshot_attempts:
            snap.attempts += 1
            pages, seen, matched = self._read_once(ds, snap.attempts)
            if matched is not None and snap.matched is not None and matched != snap.matched:
                # The layer changed between two reads: only this read describes it now.
                snap.pages, snap.features = [], {}
            snap.pages += pages
            snap.features.update(seen)
            snap.matched = matched
            if matched is None or len(snap.features) >= matched:
                return snap
            log.warning(
                "%s: %s read %d of %d features (unstable paging?); reading the layer again (%d/%d)",
                SOURCE,
                layer,
                len(snap.features),
                matched,
                snap.attempts,
                self.snapshot_attempts,
            )
        raise IncompleteSnapshot(
            f"natural_resources: {layer} paging delivered {len(snap.features)} distinct of numberMatched="
            f"{snap.matched} features in {snap.attempts} reads (duplicates across pages: the server's sort is not "
            "stable); a snapshot missing features would read as deletions, so nothing is loaded"
        )

    def _read_once(self, ds: Dataset, attempt: int) -> tuple[list[Page], dict[str, dict[str, Any]], int | None]:
        """Page through the layer once: its pages, its distinct features by identity, numberMatched."""
        layer, key = ds.extra["layer"], ds.primary_key[0]
        start, matched = 0, None
        pages: list[Page] = []
        seen: dict[str, dict[str, Any]] = {}
        while True:
            params = {
                "service": "WFS",
                "version": "2.0.0",
                "request": "GetFeature",
                "typeNames": layer,
                "outputFormat": "application/json",
                "count": self.page_size,
                "startIndex": start,
                "sortBy": key,
            }
            where = f"GET {PATH}?typeNames={layer}&startIndex={start}&count={self.page_size}"
            payload, original = self._get_json(params, where)
            features = payload.get("features")
            if not isinstance(features, list):
                raise SourceRejected(f"natural_resources: {where} answered JSON without a features list", 200)
            # More features than count= asked for: refused, since a snapshot must be whole or nothing.
            check_page(len(features), self.page_size, self.limits, f"natural_resources: {where}")
            page_matched = _as_int(payload.get("numberMatched"))
            if page_matched is not None and matched is not None and page_matched != matched:
                log.warning(
                    "%s: numberMatched of %s changed from %d to %d while paging", SOURCE, layer, matched, page_matched
                )
            matched = page_matched if page_matched is not None else matched
            page, clean = self._page(payload, original, features, f"{where} (read {attempt})")
            pages.append(page)
            seen.update((_identity(f, key), f) for f in clean if isinstance(f, dict))
            returned = _as_int(payload.get("numberReturned"))
            returned = len(features) if returned is None else returned
            start += returned
            if (
                returned == 0
                or (matched is not None and start >= matched)
                or (matched is None and returned < self.page_size)
            ):
                return pages, seen, matched
            if len(pages) >= MAX_PAGES:
                raise SourceRejected(f"natural_resources: {layer} still paging after {MAX_PAGES} pages", 200)

    def _get_json(self, params: dict[str, Any], where: str) -> tuple[dict[str, Any], bytes]:
        response = self.http.get(PATH, params=params)
        try:
            payload = response.json()
        except ValueError:
            raise SourceRejected(
                f"natural_resources: {where} answered neither GeoJSON nor an ExceptionReport "
                f"({response.headers.get('content-type', '?')}): {response.text[:200]!r}",
                response.status_code,
            ) from None
        if not isinstance(payload, dict):
            raise SourceRejected(f"natural_resources: {where} answered JSON that is not an object", 200)
        return payload, response.content

    def _page(
        self, payload: dict[str, Any], original: bytes, features: list[Any], locator: str
    ) -> tuple[Page, list[Any]]:
        """A Page whose records are flat features and whose body is the answer as received, or, when it names
        a person (jczrr), the same FeatureCollection with the person pseudonymised."""
        clean = [self._pseudonymise(f) if isinstance(f, dict) else f for f in features]
        named = any(c is not f for c, f in zip(clean, features, strict=True))
        # backslashreplace: a lone surrogate stays as its JSON escape (the feature is refused by typing, not the page).
        body = (
            json.dumps({**payload, "features": clean}, ensure_ascii=False, separators=(",", ":")).encode(
                "utf-8", "backslashreplace"
            )
            if named
            else original
        )
        records = [_flatten(f) if isinstance(f, dict) else f for f in clean]
        return Page(body, "application/geo+json", records, locator), clean

    def _pseudonymise(self, feature: dict[str, Any]) -> dict[str, Any]:
        props = feature.get("properties")
        if not isinstance(props, dict) or "jczrr" not in props:
            return feature
        props = dict(props)
        person = props.pop("jczrr")
        props["jczrr_pseudonym"] = self.pseudonyms.pseudonym("name", person)
        props["jczrr_masked"] = mask_name(person)
        return {**feature, "properties": props}

    def _raise_exception_report(self, response: httpx.Response) -> None:
        if response.status_code in TRANSIENT_STATUS:
            return  # retried by HttpClient, whatever the body
        response.read()
        if not looks_like_xml(response.content, response.headers.get("content-type", "")):
            return
        error = exception_report(
            response.content,
            response.status_code,
            f"GET {response.request.url.path}?{_brief_query(response.request.url)}",
        )
        if error is not None:
            raise error

    # -- normalise --------------------------------------------------------------------------------------
    def normalise(self, dataset: str, record: dict[str, Any]) -> dict[str, Any]:
        ds = DATASETS[dataset]
        out = {k: (v.strip() if isinstance(v, str) else v) for k, v in record.items()}
        if "jczrr" in out:  # never typed or stored in clear, even if a record arrives unprocessed
            person = out.pop("jczrr")
            out["jczrr_pseudonym"] = self.pseudonyms.pseudonym("name", person)
            out["jczrr_masked"] = mask_name(person)
        for name in DATE_FIELDS & out.keys():
            # GeoServer writes dates as "2026-05-12Z".
            if isinstance(out[name], str):
                out[name] = out[name].removesuffix("Z")[:10] or None
        try:
            out.update(describe(out.get("geometry_geojson"), ds.extra["geometry_types"]))
        except GeometryError as exc:
            raise FieldError("geometry_geojson", str(exc)) from None
        return out

    def close(self) -> None:
        self.http.close()


def _flatten(feature: dict[str, Any]) -> dict[str, Any]:
    """Properties plus the feature id and the geometry (as GeoJSON text) under the declared names."""
    props = feature.get("properties")
    record = dict(props) if isinstance(props, dict) else {}
    record["feature_id"] = feature.get("id")
    geometry = feature.get("geometry")
    record["geometry_geojson"] = None if geometry is None else json.dumps(geometry, ensure_ascii=False)
    return record


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None  # WFS allows numberMatched="unknown"


def _brief_query(url: httpx.URL) -> str:
    wanted = ("request", "typeNames", "startIndex", "count")
    return "&".join(f"{k}={url.params[k]}" for k in wanted if k in url.params)


def create(ctx: SourceContext) -> NaturalResourcesSource:
    # A check (ctx.check_timeout) tries once, briefly; an ingest keeps the retries.
    quick = ctx.check_timeout
    return NaturalResourcesSource(
        ctx.url,
        ctx.pii_key(),
        page_size=int(ctx.options.get("page_size", MAX_COUNT)),
        snapshot_attempts=int(ctx.options.get("snapshot_attempts", 4)),
        max_seconds=quick or float(ctx.options.get("max_seconds", 120)),
        timeout=quick or float(ctx.options.get("timeout", 60)),
        max_attempts=1 if quick else 8,
        limits=ctx.limits,
    )
