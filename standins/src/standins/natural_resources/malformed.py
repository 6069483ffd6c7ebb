"""Damage done to features by the ``malformed_rate`` fault switch (fixed per feature, as in real layers)."""

from __future__ import annotations

from typing import Any

from standins.common.determinism import rng


def malform(seed: int, key: str, feature: dict[str, Any]) -> dict[str, Any]:
    r = rng(seed, "malform-how", feature["id"])
    damaged = {**feature, "properties": dict(feature["properties"])}
    how = r.randrange(4)
    geometry = feature["geometry"]
    if how == 0:
        # The key attribute left empty by a digitiser.
        damaged["properties"].pop(key, None)
    elif how == 1:
        damaged["geometry"] = None
    elif how == 2:
        # Longitude and latitude swapped (a classic of hand-entered coordinates).
        damaged["geometry"] = _swapped(geometry)
    else:
        # A self-intersecting "bow-tie" ring in place of the real shape (a point becomes a broken polygon).
        x, y = _anchor(geometry)
        damaged["geometry"] = {
            "type": "Polygon",
            "coordinates": [[[x, y], [x + 0.01, y + 0.01], [x + 0.01, y], [x, y + 0.01], [x, y]]],
        }
    return damaged


def _anchor(geometry: dict[str, Any]) -> tuple[float, float]:
    coords: Any = geometry["coordinates"]
    while isinstance(coords[0], list):
        coords = coords[0]
    return float(coords[0]), float(coords[1])


def _swapped(geometry: dict[str, Any]) -> dict[str, Any]:
    def swap(c: Any) -> Any:
        return [swap(x) for x in c] if isinstance(c[0], list) else [c[1], c[0]]

    return {"type": geometry["type"], "coordinates": swap(geometry["coordinates"])}
