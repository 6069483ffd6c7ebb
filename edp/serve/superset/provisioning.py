"""Step 7: ``provision``, every step in order; each is idempotent, so running it again updates in place."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import yaml

from edp.serve.superset.access import ensure_access
from edp.serve.superset.assets import DATABASE_NAME, asset_inventory, import_assets, prune_retired
from edp.serve.superset.client import SupersetClient, admin_client
from edp.serve.superset.config import write_config
from edp.serve.superset.environment import ensure_environment
from edp.serve.superset.metadata import init_metadata
from edp.serve.superset.paths import ASSETS_DIR
from edp.serve.superset.reader_role import ensure_reader_role
from edp.serve.superset.server import start_server
from edp.settings import Settings

log = logging.getLogger(__name__)
MAIN_DASHBOARD_SLUG = "haicheng-risk-map"


def _listed(client: SupersetClient, resource: str, title_col: str, titles: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for title in titles:
        for item in client.find(resource, title_col, title, ["id", title_col]):
            found.append({"id": item["id"], "title": item[title_col]})
    return found


def provision(settings: Settings, assets_dir: Path = ASSETS_DIR) -> dict[str, Any]:
    """Set up (or update) Superset end to end; safe to run again.

    With ``EDP_SUPERSET_URL`` set, only the read-only role, the assets and the read roles (with
    the towns' row-level security): that Superset's
    image or chart runs its server, config, metadata database and admin user.

    Returns ``{"url", "dashboard_url", "database", "dashboards", "charts", "access"}``,
    dashboards as ``[{"id", "title", "url"}]`` and charts as ``[{"id", "title"}]`` listed back from the API, access as
    ``{"roles", "rls_datasets"}`` (read roles, datasets under row-level security),
    and ``retired``: the objects we owned that the assets no longer hold, deleted
    (before the import, so a retired dashboard's slug is free for its successor), and ``seconds``
    it took.
    """
    started = time.monotonic()
    external = settings.superset_url
    if not external:
        ensure_environment(settings)
        write_config(settings)
        init_metadata(settings)
    ensure_reader_role(settings)
    # EDP_SUPERSET_URL: started, configured and initialised by its own image or chart.
    url = external.rstrip("/") if external else start_server(settings)
    inventory = asset_inventory(assets_dir)
    with admin_client(settings, url) as client:
        retired = prune_retired(client, assets_dir)
        import_assets(client, settings, assets_dir)
        access = ensure_access(client, DATABASE_NAME)
        dashboards = _listed(client, "dashboard", "dashboard_title", [d["title"] for d in inventory["dashboards"]])
        charts = _listed(client, "chart", "slice_name", [c["title"] for c in inventory["charts"]])
    slugs = {
        doc["dashboard_title"]: doc["slug"]
        for doc in (
            yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((assets_dir / "dashboards").glob("*.yaml"))
        )
    }
    for dashboard in dashboards:
        dashboard["url"] = f"{url}/superset/dashboard/{slugs.get(dashboard['title'], dashboard['id'])}/"
    # The bureau's front page, 风险隐患一张图, where it is among the assets.
    main_slug = MAIN_DASHBOARD_SLUG if MAIN_DASHBOARD_SLUG in slugs.values() else next(iter(slugs.values()))
    seconds = round(time.monotonic() - started, 1)
    log.info("Superset provisioned at %s in %.1fs", url, seconds)
    return {
        "url": url,
        "dashboard_url": f"{url}/superset/dashboard/{main_slug}/",
        "database": DATABASE_NAME,
        "dashboards": dashboards,
        "charts": charts,
        "access": {"roles": access["roles"], "rls_datasets": access["rls_datasets"]},
        "retired": retired,
        "seconds": seconds,
    }
