"""The WFS 2.0 protocol bits: KVP parsing, GetCapabilities and ExceptionReport documents.

KVP parameter names are case-insensitive (OGC 06-121r9 §11.5.2), values are
not. Errors are OWS 1.1 ``ExceptionReport`` documents with the OGC exception
codes GeoServer uses; the HTTP status is decided by the caller (400, or 200
under the ``exceptions_http_200`` fault switch, as older GeoServers answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree import ElementTree as ET

OWS = "http://www.opengis.net/ows/1.1"
WFS = "http://www.opengis.net/wfs/2.0"
XLINK = "http://www.w3.org/1999/xlink"
MAX_COUNT = 1000
JSON_FORMATS = ("application/json", "json", "application/geo+json")


@dataclass(frozen=True)
class Layer:
    name: str  # prefixed name, e.g. dz:hazard_points
    namespace: str
    title: str
    key: str
    fields: tuple[str, ...]
    geometry_types: tuple[str, ...]

    @property
    def prefix(self) -> str:
        return self.name.split(":", 1)[0]

    @property
    def local(self) -> str:
        return self.name.split(":", 1)[1]


class WfsError(Exception):
    """An OGC exception: ``code``, ``locator``, ``text``."""

    def __init__(self, code: str, locator: str | None, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.locator = locator
        self.text = text


@dataclass(frozen=True)
class GetFeature:
    layer: Layer
    start: int
    count: int
    sort: tuple[tuple[str, bool], ...]  # (field, descending)
    hits_only: bool


def kvp(params: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in params.items()}


def _int(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name.lower())
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise WfsError("InvalidParameterValue", name, f"{name} {raw!r} is not an integer") from None
    if value < 0:
        raise WfsError("InvalidParameterValue", name, f"{name} must not be negative")
    return value


def parse_get_feature(params: dict[str, str], layers: Mapping[str, Layer]) -> GetFeature:
    version = params.get("version")
    if version and version not in ("2.0.0", "2.0"):
        raise WfsError("InvalidParameterValue", "version", f"version {version} is not supported (2.0.0)")
    names = params.get("typenames") or params.get("typename")
    if not names:
        raise WfsError(
            "MissingParameterValue", "typeNames", "The query should specify either typeNames or storedQueryId"
        )
    if names not in layers:
        raise WfsError("InvalidParameterValue", "typeName", f"Feature type {names} unknown")
    layer = layers[names]
    fmt = params.get("outputformat")
    if not fmt or fmt.split(";")[0].strip().lower() not in JSON_FORMATS:
        raise WfsError(
            "InvalidParameterValue",
            "outputFormat",
            f"Failed to find response for output format {fmt or 'application/gml+xml; version=3.2'}"
            " (this server answers application/json)",
        )
    count = min(_int(params, "count", _int(params, "maxFeatures", MAX_COUNT)), MAX_COUNT)
    return GetFeature(
        layer=layer,
        start=_int(params, "startIndex", 0),
        count=count,
        sort=_sort(params.get("sortby"), layer),
        hits_only=(params.get("resulttype") or "results").lower() == "hits",
    )


def _sort(raw: str | None, layer: Layer) -> tuple[tuple[str, bool], ...]:
    if not raw:
        return ()
    keys = []
    for part in raw.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        name = bits[0].split(":")[-1]
        order = bits[1].upper() if len(bits) > 1 else "ASC"
        if name not in layer.fields or order not in ("ASC", "DESC", "A", "D"):
            raise WfsError(
                "InvalidParameterValue", "sortBy", f"Illegal property name or order in sortBy: {part.strip()}"
            )
        keys.append((name, order in ("DESC", "D")))
    return tuple(keys)


def exception_report(error: WfsError) -> bytes:
    ET.register_namespace("ows", OWS)
    root = ET.Element(f"{{{OWS}}}ExceptionReport", {"version": "2.0.0"})
    attrs = {"exceptionCode": error.code}
    if error.locator:
        attrs["locator"] = error.locator
    exc = ET.SubElement(root, f"{{{OWS}}}Exception", attrs)
    ET.SubElement(exc, f"{{{OWS}}}ExceptionText").text = error.text
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def capabilities(layers: Mapping[str, Layer], base_url: str) -> bytes:
    for prefix, uri in (("wfs", WFS), ("ows", OWS), ("xlink", XLINK)):
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{WFS}}}WFS_Capabilities", {"version": "2.0.0"})
    ident = ET.SubElement(root, f"{{{OWS}}}ServiceIdentification")
    ET.SubElement(ident, f"{{{OWS}}}Title").text = "海城市自然资源局 地理信息服务 (WFS)"
    ET.SubElement(ident, f"{{{OWS}}}ServiceType").text = "WFS"
    ET.SubElement(ident, f"{{{OWS}}}ServiceTypeVersion").text = "2.0.0"
    ops = ET.SubElement(root, f"{{{OWS}}}OperationsMetadata")
    for name in ("GetCapabilities", "DescribeFeatureType", "GetFeature"):
        op = ET.SubElement(ops, f"{{{OWS}}}Operation", {"name": name})
        http = ET.SubElement(ET.SubElement(op, f"{{{OWS}}}DCP"), f"{{{OWS}}}HTTP")
        ET.SubElement(http, f"{{{OWS}}}Get", {f"{{{XLINK}}}href": base_url})
        if name == "GetFeature":
            param = ET.SubElement(op, f"{{{OWS}}}Parameter", {"name": "outputFormat"})
            values = ET.SubElement(param, f"{{{OWS}}}AllowedValues")
            ET.SubElement(values, f"{{{OWS}}}Value").text = "application/json"
    for cname, value in (("ImplementsResultPaging", "TRUE"), ("CountDefault", str(MAX_COUNT))):
        constraint = ET.SubElement(ops, f"{{{OWS}}}Constraint", {"name": cname})
        ET.SubElement(constraint, f"{{{OWS}}}DefaultValue").text = value
    types = ET.SubElement(root, f"{{{WFS}}}FeatureTypeList")
    for layer in layers.values():
        ft = ET.SubElement(types, f"{{{WFS}}}FeatureType", {f"xmlns:{layer.prefix}": layer.namespace})
        ET.SubElement(ft, f"{{{WFS}}}Name").text = layer.name
        ET.SubElement(ft, f"{{{WFS}}}Title").text = layer.title
        ET.SubElement(ft, f"{{{WFS}}}DefaultCRS").text = "urn:ogc:def:crs:EPSG::4490"
        bbox = ET.SubElement(ft, f"{{{OWS}}}WGS84BoundingBox")
        ET.SubElement(bbox, f"{{{OWS}}}LowerCorner").text = "122.30 40.50"
        ET.SubElement(bbox, f"{{{OWS}}}UpperCorner").text = "123.25 41.15"
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
