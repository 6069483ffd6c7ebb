"""Geometry of WFS features: GeoJSON → WKT and a representative lon/lat (shapely).

Coordinates are CGCS2000 (EPSG:4490) longitude/latitude; within Haicheng they
differ from WGS 84 by centimetres, so no transformation is done. A feature
whose geometry is missing, unreadable, of the wrong type, invalid (e.g. a
self-intersecting ring) or outside China's lon/lat range (swapped axes,
projected metres) is refused with the reason, for the record to be quarantined.
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.validation import explain_validity

from edp.errors import DataRejected

# Mainland China's extent in lon/lat, generously: catches swapped axes and projected metres.
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)


class GeometryError(DataRejected, ValueError):
    pass


def load_geojson(value: Any) -> dict[str, Any]:
    if value is None or value == "":
        raise GeometryError("feature has no geometry")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise GeometryError(f"geometry is not JSON: {exc}") from None
    if not isinstance(value, dict) or "type" not in value:
        raise GeometryError("geometry is not a GeoJSON geometry object")
    return value


def describe(value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """``geometry_geojson`` (canonical text), ``geometry_wkt``, ``lon``, ``lat`` of a GeoJSON geometry."""
    geojson = load_geojson(value)
    if geojson["type"] not in allowed:
        raise GeometryError(f"geometry type {geojson['type']} not expected here (expected {' or '.join(allowed)})")
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.GEOSException) as exc:
        raise GeometryError(f"unreadable {geojson['type']} coordinates: {exc}") from None
    if geom.is_empty:
        raise GeometryError(f"empty {geojson['type']}")
    min_x, min_y, max_x, max_y = geom.bounds
    if not (LON_RANGE[0] <= min_x and max_x <= LON_RANGE[1] and LAT_RANGE[0] <= min_y and max_y <= LAT_RANGE[1]):
        raise GeometryError(
            f"coordinates outside China's lon/lat range (bounds {min_x:g},{min_y:g},{max_x:g},{max_y:g}): "
            "swapped axes or a projected CRS?"
        )
    if not geom.is_valid:
        raise GeometryError(f"invalid {geojson['type']}: {explain_validity(geom)}")
    where: Point
    if isinstance(geom, Point):
        where = geom
    else:
        # The centroid when it lies on the feature, else a point guaranteed inside (a C- or L-shaped lease).
        where = geom.centroid if geom.centroid.within(geom) else geom.representative_point()
    return {
        "geometry_geojson": json.dumps(geojson, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
        "geometry_wkt": shapely.to_wkt(geom, rounding_precision=6),
        "lon": round(where.x, 6),
        "lat": round(where.y, 6),
    }
