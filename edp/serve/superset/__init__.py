"""Apache Superset for the platform: own venv, config, metadata DB, assets, server.

Superset 6 needs SQLAlchemy < 2, so it never runs inside the platform's venv:
every Superset action here is either a subprocess of ``infra/superset/.venv``
(``subprocesses``) or an HTTP call to its web server (``client``).

``provision`` is the whole story, in order: environment, config, metadata DB
and admin user, read-only warehouse role, web server, assets, then the
analyst and town roles with row-level security (``access``, which also adds
users). Each step is idempotent, so provisioning again updates in place
instead of duplicating. One module a step: ``environment``, ``config``,
``metadata``, ``reader_role``, ``server``, ``assets``, ``access``;
``provisioning`` runs them, ``charts`` reads chart data back through the API.
"""

from edp.serve.superset.assets import DASHBOARD_TITLE, DATABASE_NAME, URI_PLACEHOLDER, asset_inventory, render_bundle
from edp.serve.superset.charts import chart_data
from edp.serve.superset.environment import ensure_environment
from edp.serve.superset.errors import SupersetError
from edp.serve.superset.metadata import ADMIN_SECRET
from edp.serve.superset.paths import ASSETS_DIR
from edp.serve.superset.provisioning import provision
from edp.serve.superset.reader_role import READER_SECRET
from edp.serve.superset.server import start_server, stop_server

__all__ = [
    "ADMIN_SECRET",
    "ASSETS_DIR",
    "DASHBOARD_TITLE",
    "DATABASE_NAME",
    "READER_SECRET",
    "URI_PLACEHOLDER",
    "SupersetError",
    "asset_inventory",
    "chart_data",
    "ensure_environment",
    "provision",
    "render_bundle",
    "start_server",
    "stop_server",
]
