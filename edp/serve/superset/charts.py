"""Step 8: a chart's rows as Superset's API serves them (for tests and reports)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from edp.serve.superset.client import admin_client
from edp.serve.superset.errors import SupersetError
from edp.settings import Settings

# GenericDataType.TEMPORAL in the chart-data response's ``coltypes``.
_TEMPORAL = 2


def _decode_rows(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of one chart-data result, temporal columns as naive datetimes.

    Superset sends timestamps as epoch milliseconds of the wall-clock time it
    displays (UTC for a timestamptz column, Beijing time for the dataset's
    ``obs_hour_bjt``), so the naive datetime is exactly what the chart shows.
    """
    temporal = {
        name
        for name, kind in zip(result.get("colnames") or [], result.get("coltypes") or [], strict=False)
        if kind == _TEMPORAL
    }
    rows: list[dict[str, Any]] = []
    for row in result.get("data") or []:
        decoded = dict(row)
        for name in temporal & decoded.keys():
            if isinstance(decoded[name], int | float):
                decoded[name] = datetime.fromtimestamp(decoded[name] / 1000, tz=UTC).replace(tzinfo=None)
        rows.append(decoded)
    return rows


def chart_data(settings: Settings, base_url: str, chart_title: str) -> list[dict[str, Any]]:
    """The rows of the chart titled ``chart_title``, as the API serves them.

    Runs the chart's saved query context (``GET /api/v1/chart/<id>/data/``),
    i.e. the long-format query before any client-side pivot.
    """
    with admin_client(settings, base_url) as client:
        matches = client.find("chart", "slice_name", chart_title, ["id", "slice_name"])
        if not matches:
            raise SupersetError(f"no chart titled {chart_title!r} at {base_url}")
        if len(matches) > 1:
            raise SupersetError(f"{len(matches)} charts titled {chart_title!r} at {base_url}")
        payload = client.get(
            f"/api/v1/chart/{matches[0]['id']}/data/", params={"format": "json", "type": "full", "force": "true"}
        )
    rows: list[dict[str, Any]] = []
    for result in payload.get("result", []):
        if result.get("error"):
            raise SupersetError(f"chart {chart_title!r}: {result['error']}")
        rows.extend(_decode_rows(result))
    return rows
