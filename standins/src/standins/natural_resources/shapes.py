"""Small geometry helpers for the stand-in's features (GeoJSON dicts, CGCS2000 lon/lat)."""

from __future__ import annotations

import math
import random

# Metres per degree at Haicheng's latitude (about 40.8° N).
M_PER_DEG_LAT = 111_000.0
M_PER_DEG_LON = 111_000.0 * math.cos(math.radians(40.8))


def point(lon: float, lat: float) -> dict[str, object]:
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}


def ring_around(r: random.Random, lon: float, lat: float, radius_m: float, vertices: int) -> list[list[float]]:
    """A closed, simple (star-shaped) ring: vertices at increasing angles, jittered radius."""
    step = 2 * math.pi / vertices
    start = r.uniform(0, step)
    coords = []
    for i in range(vertices):
        angle = start + i * step + r.uniform(-0.25, 0.25) * step
        dist = radius_m * r.uniform(0.65, 1.0)
        coords.append(
            [
                round(lon + dist * math.cos(angle) / M_PER_DEG_LON, 6),
                round(lat + dist * math.sin(angle) / M_PER_DEG_LAT, 6),
            ]
        )
    coords.append(list(coords[0]))
    return coords


def rectangle(lon: float, lat: float, area_m2: float, aspect: float) -> list[list[float]]:
    """A closed axis-aligned rectangle of about ``area_m2`` centred on (lon, lat)."""
    width = math.sqrt(area_m2 * aspect)
    height = area_m2 / width
    dx = width / 2 / M_PER_DEG_LON
    dy = height / 2 / M_PER_DEG_LAT
    corners = [(lon - dx, lat - dy), (lon + dx, lat - dy), (lon + dx, lat + dy), (lon - dx, lat + dy)]
    ring = [[round(x, 6), round(y, 6)] for x, y in corners]
    return [*ring, list(ring[0])]


def polygon(ring: list[list[float]]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [ring]}


def multipolygon(rings: list[list[list[float]]]) -> dict[str, object]:
    return {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}
