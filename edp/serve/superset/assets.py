"""Step 5: the committed dashboards, charts, datasets and database, imported as one bundle.

The committed assets are the truth. Provisioning imports them (overwriting
every object by UUID) and then deletes the dashboards, charts and datasets we
own that are no longer committed, so a chart deleted from the code disappears
from Superset. "We own" is decided by the UUID alone: every asset's UUID
starts with :data:`OWNED_UUID_PREFIX` (uuid5 of its kind and file name, first
group replaced), and :data:`LEGACY_OWNED_UUIDS` lists the random UUIDs the
first assets carried so installations provisioned before the prefix are
cleaned up too. Whatever an analyst creates in the UI gets a random UUID and
is never touched; the database object is never deleted.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import yaml

from edp.serve.superset.client import SupersetClient, rison
from edp.serve.superset.errors import SupersetError
from edp.serve.superset.paths import ASSETS_DIR
from edp.serve.superset.reader_role import reader_superset_uri
from edp.settings import Settings

DATABASE_NAME = "海城应急数据仓库 (EDP warehouse)"
DASHBOARD_TITLE = "海城市气象逐时极值 Haicheng weather hourly extremes"
# Every committed dashboard, chart and dataset UUID starts with this (see the module docstring).
OWNED_UUID_PREFIX = "edb0a5e5-"
# UUIDs of the first weather assets, before the prefix: still ours, deleted as retired.
LEGACY_OWNED_UUIDS = frozenset(
    {
        "d5583530-2810-42dc-a34c-7742d55594ad",
        "d5621499-91e7-4feb-8fc9-398b8fc8262c",
        "45e8c23c-49ab-4d18-8b5c-9f205d32ce50",
        "a3aa27e5-dae2-4599-85c1-e256b8b784bd",
        "36eeb6cd-46a9-464c-8da7-60bf457fd09d",
    }
)
# Deleted in this order: a dashboard before its charts, charts before their dataset.
PRUNED_KINDS = (("dashboards", "dashboard"), ("charts", "chart"), ("datasets", "dataset"))
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


def owned(uuid: str) -> bool:
    """Whether a Superset object with this UUID was created from our committed assets."""
    return uuid.startswith(OWNED_UUID_PREFIX) or uuid in LEGACY_OWNED_UUIDS


def _all(client: SupersetClient, resource: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 0
    while True:
        query = {"columns": ["id", "uuid"], "page": page, "page_size": 100}
        batch = client.get(f"/api/v1/{resource}/", params={"q": rison(query)})["result"]
        items.extend(batch)
        if len(batch) < 100:
            return items
        page += 1


def prune_retired(client: SupersetClient, assets_dir: Path = ASSETS_DIR) -> list[str]:
    """Delete the dashboards, charts and datasets we own that the assets no longer hold.

    Returns ``["chart <uuid>", ...]``, what was deleted.
    """
    committed = {kind: {entry["uuid"] for entry in entries} for kind, entries in asset_inventory(assets_dir).items()}
    deleted: list[str] = []
    for kind, resource in PRUNED_KINDS:
        for item in _all(client, resource):
            uuid = str(item.get("uuid") or "")
            if owned(uuid) and uuid not in committed.get(kind, set()):
                client.delete(f"/api/v1/{resource}/{item['id']}")
                deleted.append(f"{resource} {uuid}")
    return deleted
