"""After the assets (step 5), who reads what: the analyst role, one role per town with row-level security, users.

``edp_analyst`` (分析人员) reads every dashboard, all towns. ``town_<code12>``
(镇街用户) reads the same dashboards, with a Regular row-level-security filter
``division_code = '<code12>'`` on every dataset that has a ``division_code``
column, found from the datasets Superset holds when provisioning runs (so a
dataset added later gets its filter on the next provision). Read permissions
are Superset's Gamma role without its write permissions, plus
``database_access`` on our warehouse: every dataset on it, none elsewhere.

Everything goes through Superset's REST API (FAB's ``/api/v1/security/...``,
on by default in Superset 6.1, and ``/api/v1/rowlevelsecurity/``), so it works
for an external Superset too. Every step compares before it writes: a rerun
changes nothing and duplicates nothing.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from edp.secrets import generated_secret
from edp.serve.superset.client import SupersetClient, rison
from edp.serve.superset.errors import SupersetError
from edp.settings import REPO_ROOT, Settings

log = logging.getLogger(__name__)

ANALYST_ROLE = "edp_analyst"
TOWN_ROLE_PREFIX = "town_"
RLS_COLUMN = "division_code"
BASE_ROLE = "Gamma"
DIVISIONS_SEED = REPO_ROOT / "dbt" / "seeds" / "ref_divisions.csv"
# Gamma may create and change its own charts and dashboards; ours only read.
WRITE_PERMISSIONS = frozenset({"can_write", "can_add", "can_edit", "can_delete", "can_save", "can_overwrite"})
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_PAGE_SIZE = 100


@dataclass(frozen=True)
class Town:
    code: str
    name: str

    @property
    def role(self) -> str:
        return f"{TOWN_ROLE_PREFIX}{self.code}"

    @property
    def clause(self) -> str:
        return f"{RLS_COLUMN} = '{self.code}'"

    @property
    def rls_name(self) -> str:
        return f"{self.role} {RLS_COLUMN}"


def towns(seed: Path = DIVISIONS_SEED) -> list[Town]:
    """The towns (镇街, level ``town``) of the division reference, by code."""
    with seed.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["level"] == "town"]
    return sorted((Town(r["code12"], r["name"]) for r in rows), key=lambda t: t.code)


def town_by_code(code: str, seed: Path = DIVISIONS_SEED) -> Town:
    """The town with 12-digit ``code``; a clear error for anything else."""
    for town in towns(seed):
        if town.code == code:
            return town
    raise SupersetError(f"--town {code!r} is not the 12-digit code of a town (镇街) in {seed.name}")


def rls_dataset_ids(datasets: Iterable[dict[str, Any]]) -> list[int]:
    """Ids of the datasets (``{"id", "columns": [{"column_name"}]}``) that have a ``division_code`` column."""
    return sorted(
        int(d["id"]) for d in datasets if any(c.get("column_name") == RLS_COLUMN for c in d.get("columns") or [])
    )


def read_permission_ids(base: Iterable[dict[str, Any]], database_access: Iterable[int]) -> list[int]:
    """The base role's permissions (``{"id", "permission_name"}``) without writes, plus ``database_access``."""
    kept = {int(p["id"]) for p in base if p["permission_name"] not in WRITE_PERMISSIONS}
    return sorted(kept | set(database_access))


def _pages(client: SupersetClient, path: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    page = 0
    while True:
        result = client.get(path, params={"q": rison({**query, "page": page, "page_size": _PAGE_SIZE})})["result"]
        yield from result
        if len(result) < _PAGE_SIZE:
            return
        page += 1


def _role_id(client: SupersetClient, name: str, create: bool) -> int | None:
    found = [r for r in client.find("security/roles", "name", name, ["id", "name"]) if r["name"] == name]
    if found:
        return int(found[0]["id"])
    if not create:
        return None
    return int(client.post("/api/v1/security/roles/", json={"name": name})["id"])


def _database_access_ids(client: SupersetClient, database_name: str) -> list[int]:
    prefix = f"[{database_name}].(id:"
    return [
        int(p["id"])
        # Ordered, so that pages neither skip nor repeat a row.
        for p in _pages(
            client, "/api/v1/security/permissions-resources/", {"order_column": "id", "order_direction": "asc"}
        )
        if p["permission"]["name"] == "database_access" and p["view_menu"]["name"].startswith(prefix)
    ]


def _our_datasets(client: SupersetClient, database_name: str) -> list[dict[str, Any]]:
    listed = _pages(client, "/api/v1/dataset/", {"columns": ["id", "database.database_name"]})
    ids = [d["id"] for d in listed if (d.get("database") or {}).get("database_name") == database_name]
    return [client.get(f"/api/v1/dataset/{i}")["result"] | {"id": i} for i in ids]


def _ensure_role(client: SupersetClient, name: str, permission_ids: list[int]) -> tuple[int, bool]:
    role_id = _role_id(client, name, create=True)
    if role_id is None:  # for the type checker: create=True always returns an id
        raise SupersetError(f"could not create the role {name!r}")
    current = sorted(int(p["id"]) for p in client.get(f"/api/v1/security/roles/{role_id}/permissions/")["result"])
    if current == permission_ids:
        return role_id, False
    # Replaces the role's whole permission set (FAB's add_role_permissions).
    client.post(f"/api/v1/security/roles/{role_id}/permissions", json={"permission_view_menu_ids": permission_ids})
    return role_id, True


def _ensure_rls(client: SupersetClient, town: Town, role_id: int, table_ids: list[int]) -> bool:
    body = {
        "name": town.rls_name,
        "description": f"{town.name}: only rows of this town (镇街行级权限)",
        "filter_type": "Regular",
        "tables": table_ids,
        "roles": [role_id],
        "clause": town.clause,
        "group_key": "",
    }
    found = [
        r for r in client.find("rowlevelsecurity", "name", town.rls_name, ["id", "name"]) if r["name"] == town.rls_name
    ]
    if not found:
        client.post("/api/v1/rowlevelsecurity/", json=body)
        return True
    rls_id = found[0]["id"]
    current = client.get(f"/api/v1/rowlevelsecurity/{rls_id}")["result"]
    same = (
        current.get("clause") == body["clause"]
        and current.get("filter_type") == body["filter_type"]
        and current.get("description") == body["description"]
        and sorted(t["id"] for t in current.get("tables") or []) == table_ids
        and [r["id"] for r in current.get("roles") or []] == [role_id]
    )
    if not same:
        client.put(f"/api/v1/rowlevelsecurity/{rls_id}", json=body)
    return not same


def ensure_access(client: SupersetClient, database_name: str) -> dict[str, Any]:
    """Create or update ``edp_analyst``, the town roles and their RLS filters; returns what it did."""
    base_id = _role_id(client, BASE_ROLE, create=False)
    if base_id is None:
        raise SupersetError(f"Superset has no {BASE_ROLE!r} role to base the read roles on (was `superset init` run?)")
    base = client.get(f"/api/v1/security/roles/{base_id}/permissions/")["result"]
    database_access = _database_access_ids(client, database_name)
    if not database_access:
        raise SupersetError(f"no database_access permission for {database_name!r}: were the assets imported?")
    permission_ids = read_permission_ids(base, database_access)
    table_ids = rls_dataset_ids(_our_datasets(client, database_name))
    changed: list[str] = []
    _, role_changed = _ensure_role(client, ANALYST_ROLE, permission_ids)
    if role_changed:
        changed.append(ANALYST_ROLE)
    town_list = towns()
    if not table_ids:
        # Superset refuses a filter on no table; with no such dataset there is nothing to filter yet.
        log.warning("no dataset of %s has a %s column: town roles get no row-level filter", database_name, RLS_COLUMN)
    for town in town_list:
        role_id, role_changed = _ensure_role(client, town.role, permission_ids)
        rls_changed = bool(table_ids) and _ensure_rls(client, town, role_id, table_ids)
        if role_changed or rls_changed:
            changed.append(town.role)
    return {"roles": 1 + len(town_list), "rls_datasets": len(table_ids), "changed": changed}


# -- users ---------------------------------------------------------------------------------------


def user_secret(username: str) -> str:
    """Name of the generated secret holding ``username``'s Superset password."""
    return f"superset_user_{username}"


def user_role(town: str | None, analyst: bool) -> tuple[str, Town | None]:
    """The role for ``--town`` xor ``--analyst``; a clear error otherwise."""
    if analyst == (town is not None):
        raise SupersetError("give exactly one of --town <12-digit code> or --analyst")
    if town is None:
        return ANALYST_ROLE, None
    found = town_by_code(town)
    return found.role, found


def add_user(
    client: SupersetClient, settings: Settings, username: str, town: str | None = None, analyst: bool = False
) -> dict[str, Any]:
    """Create the Superset user ``username`` with the analyst or a town role.

    Nothing is created when the arguments are wrong, the role is missing
    (provision first) or the user exists already (then ``created`` is False).
    The password is generated into ``$EDP_HOME/secrets`` (0600); its path is returned, never the value.
    """
    if not USERNAME_PATTERN.fullmatch(username):
        raise SupersetError(f"username {username!r}: letters, digits, '_', '.', '-' only, at most 64")
    role, town_obj = user_role(town, analyst)
    secret_path = settings.home_dir / "secrets" / user_secret(username)
    result: dict[str, Any] = {"username": username, "role": role, "password_file": str(secret_path)}
    existing = [
        u for u in client.find("security/users", "username", username, ["id", "username"]) if u["username"] == username
    ]
    if existing:
        return result | {"created": False}
    role_id = _role_id(client, role, create=False)
    if role_id is None:
        raise SupersetError(f"Superset has no role {role!r}: run `edp superset provision` first")
    password = generated_secret(settings, user_secret(username))
    client.post(
        "/api/v1/security/users/",
        json={
            "username": username,
            "first_name": username,
            "last_name": town_obj.name if town_obj else "分析人员",
            "email": f"{username}@edp.invalid",
            "active": True,
            "roles": [role_id],
            "password": password,
        },
    )
    return result | {"created": True}


def add_superset_user(
    settings: Settings, username: str, town: str | None = None, analyst: bool = False
) -> dict[str, Any]:
    """``edp superset users add``: check the arguments, then create the user on the provisioned Superset."""
    from edp.serve.superset.client import admin_client
    from edp.serve.superset.paths import base_url

    if not USERNAME_PATTERN.fullmatch(username):
        raise SupersetError(f"username {username!r}: letters, digits, '_', '.', '-' only, at most 64")
    user_role(town, analyst)  # before any connection: a wrong code creates nothing
    url = settings.superset_url.rstrip("/") if settings.superset_url else base_url(settings)
    try:
        with admin_client(settings, url) as client:
            return add_user(client, settings, username, town=town, analyst=analyst)
    except httpx.TransportError as exc:
        raise SupersetError(f"Superset does not answer at {url} ({exc}): run `edp superset provision` first") from None
