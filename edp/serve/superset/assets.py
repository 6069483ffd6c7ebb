"""Step 5: the committed dashboards, charts, dataset and database, imported as one bundle."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import yaml

from edp.serve.superset.client import SupersetClient
from edp.serve.superset.errors import SupersetError
from edp.serve.superset.paths import ASSETS_DIR
from edp.serve.superset.reader_role import reader_superset_uri
from edp.settings import Settings

DATABASE_NAME = "海城应急数据仓库 (EDP warehouse)"
DASHBOARD_TITLE = "海城市气象逐时极值 Haicheng weather hourly extremes"
# The committed database YAML holds this instead of a URI (see render_bundle).
URI_PLACEHOLDER = "{{ EDP_WAREHOUSE_READER_URI }}"


def _asset_files(assets_dir: Path = ASSETS_DIR) -> list[Path]:
    return sorted(p for p in assets_dir.rglob("*.yaml") if p.is_file())


def asset_inventory(assets_dir: Path = ASSETS_DIR) -> dict[str, list[dict[str, str]]]:
    """``{"charts": [{"uuid", "title"}], "dashboards": [...], ...}`` from the YAML files."""
    title_keys = {"databases": "database_name", "datasets": "table_name", "charts": "slice_name"}
    inventory: dict[str, list[dict[str, str]]] = {}
    for path in _asset_files(assets_dir):
        kind = path.relative_to(assets_dir).parts[0]
        if kind == "metadata.yaml":
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        title = doc.get(title_keys.get(kind, "dashboard_title"), "")
        inventory.setdefault(kind, []).append({"uuid": str(doc["uuid"]), "title": title})
    return inventory


def _render_database(text: str, uri: str, source: Path) -> str:
    doc = yaml.safe_load(text)
    if doc.get("sqlalchemy_uri") != URI_PLACEHOLDER:
        # Refuse rather than import: a real URI in git is exactly what must not happen.
        raise SupersetError(f"{source}: sqlalchemy_uri must be the placeholder {URI_PLACEHOLDER!r}")
    doc["sqlalchemy_uri"] = uri
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def render_bundle(settings: Settings, assets_dir: Path = ASSETS_DIR) -> bytes:
    """The assets as an import ZIP, in memory, with this installation's warehouse URI.

    The password rides inside the URI rather than in the import API's
    ``passwords`` form field: Superset's action log stores form fields verbatim
    (apache/superset#35355), while a URI is stored masked with the password
    encrypted. Built in memory so the password never lands in a file.
    """
    uri = reader_superset_uri(settings, masked=False)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in _asset_files(assets_dir):
            rel = path.relative_to(assets_dir).as_posix()
            text = path.read_text(encoding="utf-8")
            if rel.startswith("databases/"):
                text = _render_database(text, uri, path)
            # Superset strips the first path component of every entry.
            zf.writestr(f"edp_superset_assets/{rel}", text)
    return buffer.getvalue()


def import_assets(client: SupersetClient, settings: Settings, assets_dir: Path = ASSETS_DIR) -> None:
    """Import the bundle through ``/api/v1/assets/import/`` (overwrites every object by UUID)."""
    bundle = render_bundle(settings, assets_dir)
    client.post("/api/v1/assets/import/", files={"bundle": ("edp_superset_assets.zip", bundle, "application/zip")})
