"""Stand-in for the 自然资源局 natural-resources bureau's WFS 2.0 (GeoServer).

Contract: ``/work/shared/interfaces/natural_resources.md``. Entry point::

    create_app(*, seed=42, scale=1.0, clock=None, faults=None) -> Starlette   # GET /geoserver/wfs

Layers ``dz:hazard_points`` (Point), ``kc:mining_rights`` (Polygon / MultiPolygon)
and ``yj:shelters`` (Point / Polygon), GeoJSON in CGCS2000 lon/lat, paging with
``startIndex``/``count`` (at most 1000), ``sortBy``, ``numberMatched``.

Fault switches (:class:`NaturalResourcesFaults`, also ``POST /__admin/faults``):
``outage``, ``slow_seconds``, ``fail_503_rate``, ``malformed_rate`` (bad geometry,
missing key, no geometry), ``exceptions_http_200``, ``backend_error``
(NoApplicableCode), ``unstable_sort_rate`` (duplicates across pages). WFS has no
rate limit in the contract, so there is no 429 switch.

Changes between pulls: ``app.state.service.retire_hazard_point()``,
``add_hazard_point()``, ``add_mining_licence()`` or ``POST /__admin/changes``.
"""

from __future__ import annotations

from standins.natural_resources.app import LAYERS, NaturalResourcesFaults, NaturalResourcesService, create_app

__all__ = ["LAYERS", "NaturalResourcesFaults", "NaturalResourcesService", "create_app"]
