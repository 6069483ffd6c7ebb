"""Checks of roles, row-level security and users on a provisioned Superset, as its users see it.

Called from the one end-to-end Superset test (one Superset start for the suite).
"""

from __future__ import annotations

import html
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from edp.serve.superset import DATABASE_NAME, access
from edp.serve.superset.client import SupersetClient, admin_client, rison
from edp.serve.superset.errors import SupersetError
from edp.settings import Settings

TOWN = access.town_by_code("210381104000")  # 析木镇
OTHER_TOWN = access.town_by_code("210381123000")  # 牛庄镇
# (id, code, name, obs_hour in Beijing time, precip mm, gust m/s): the town's rows and a neighbour's.
TOWN_ROWS = [
    ("t1", TOWN.code, TOWN.name, "2025-07-02 08:00+08", 5.0, 11.0),
    ("t2", TOWN.code, TOWN.name, "2025-07-02 09:00+08", 7.5, 13.5),
    ("t3", OTHER_TOWN.code, OTHER_TOWN.name, "2025-07-02 08:00+08", 2.0, 19.0),
]
PRECIP_CHART = "各镇街逐时最大降水 Max hourly precipitation by division"
GUST_TABLE = "各镇街最大阵风 Max wind gust by division"
GUST_TOTAL = "全市最大阵风 Citywide max wind gust"


def assert_chinese_by_default(url: str) -> None:
    """The login page boots in Chinese for a browser that asks for nothing else; English stays selectable."""
    page = httpx.get(f"{url}/login/", timeout=120).text
    found = re.search(r'data-bootstrap="([^"]*)"', page)
    assert found, page[:500]
    common = json.loads(html.unescape(found.group(1)))["common"]
    assert common["locale"] == "zh"
    assert set(common["menu_data"]["navbar_right"]["languages"]) >= {"zh", "en"}


def _all(client: SupersetClient, path: str) -> list[dict[str, Any]]:
    return list(client.get(path, params={"q": rison({"page_size": 100})})["result"])


def dashboards_as(url: str, username: str, password: str) -> dict[str, list[dict[str, Any]]]:
    """Every chart's rows of every dashboard the user can see, ``{chart title: rows}``; errors fail."""
    charts: dict[str, list[dict[str, Any]]] = {}
    with SupersetClient(url, username, password) as client:
        client.login()
        dashboards = _all(client, "/api/v1/dashboard/")
        assert dashboards, f"{username} sees no dashboard"
        for dashboard in dashboards:
            for chart in client.get(f"/api/v1/dashboard/{dashboard['id']}/charts")["result"]:
                payload = client.get(
                    f"/api/v1/chart/{chart['id']}/data/", params={"format": "json", "type": "full", "force": "true"}
                )
                results = payload["result"]
                assert results and not any(r.get("error") for r in results), (username, chart["slice_name"], results)
                charts[chart["slice_name"]] = [row for r in results for row in r["data"]]
        # Read only: no new dashboard, chart or SQL Lab query.
        with pytest.raises(SupersetError, match=r"403|401"):
            client.post("/api/v1/dashboard/", json={"dashboard_title": "不应存在 Must not exist"})
    return charts


def _division_values(charts: dict[str, list[dict[str, Any]]], column: str) -> set[str]:
    return {row[column] for rows in charts.values() for row in rows if column in row}


def assert_roles_and_rls(settings: Settings, url: str) -> None:
    """One role per town plus the analyst, one RLS filter per town on every dataset with division_code."""
    with admin_client(settings, url) as client:
        roles = [
            r["name"] for r in client.get("/api/v1/security/roles/", params={"q": rison({"page_size": 100})})["result"]
        ]
        town_roles = sorted(r for r in roles if r.startswith(access.TOWN_ROLE_PREFIX))
        assert town_roles == sorted(t.role for t in access.towns())
        assert roles.count(access.ANALYST_ROLE) == 1
        filters = _all(client, "/api/v1/rowlevelsecurity/")
        datasets = [
            client.get(f"/api/v1/dataset/{d['id']}")["result"] | {"id": d["id"]}
            for d in _all(client, "/api/v1/dataset/")
        ]
        with_code = access.rls_dataset_ids(datasets)
        assert with_code, "no dataset with division_code: nothing would be filtered"
        assert sorted(f["name"] for f in filters) == sorted(t.rls_name for t in access.towns())
        for f in filters:
            assert f["filter_type"] == "Regular"
            assert sorted(t["id"] for t in f["tables"]) == with_code
            assert [r["name"] for r in f["roles"]] == [f["name"].split()[0]]
            assert (
                f["clause"]
                == f"division_code = '{f['name'][len(access.TOWN_ROLE_PREFIX) : len(access.TOWN_ROLE_PREFIX) + 12]}'"
            )
        # A further run finds everything as it should be.
        assert access.ensure_access(client, DATABASE_NAME)["changed"] == []


def _cli_add(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDP_HOME": str(settings.home_dir), "EDP_SUPERSET_PORT": str(settings.superset_port)}
    edp = Path(sys.executable).parent / "edp"
    return subprocess.run(
        [str(edp), "superset", "users", "add", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def assert_users_see_their_towns(settings: Settings, url: str, insert: Callable[[list[Any]], None]) -> None:
    """Users made by ``edp superset users add``: the analyst sees every town, a town officer only theirs."""
    insert(TOWN_ROWS)
    analyst = access.add_superset_user(settings, "analyst1", analyst=True)
    officer = access.add_superset_user(settings, "ximu1", town=TOWN.code)
    assert analyst["created"] and officer["created"]
    assert (analyst["role"], officer["role"]) == (access.ANALYST_ROLE, TOWN.role)
    passwords = {}
    for user in (analyst, officer):
        path = Path(user["password_file"])
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        passwords[user["username"]] = path.read_text(encoding="utf-8").strip()

    # Again, through the real CLI: says so, changes nothing; a wrong code names itself, creates nothing.
    again = _cli_add(settings, "ximu1", "--town", TOWN.code)
    assert again.returncode == 0 and "exists already" in again.stdout, again
    assert passwords["ximu1"] not in again.stdout + again.stderr
    assert Path(officer["password_file"]).read_text(encoding="utf-8").strip() == passwords["ximu1"]
    wrong = _cli_add(settings, "nobody1", "--town", "210381999000")
    assert wrong.returncode == 2 and wrong.stderr.strip().count("\n") == 0 and "210381999000" in wrong.stderr, wrong
    assert not (settings.home_dir / "secrets" / access.user_secret("nobody1")).exists()

    seen_by_analyst = dashboards_as(url, "analyst1", passwords["analyst1"])
    assert {TOWN.code, OTHER_TOWN.code} <= _division_values(seen_by_analyst, "division_code")
    assert len(_division_values(seen_by_analyst, "division_name")) >= 3

    seen_by_town = dashboards_as(url, "ximu1", passwords["ximu1"])
    assert seen_by_town.keys() == seen_by_analyst.keys()
    assert _division_values(seen_by_town, "division_code") <= {TOWN.code}
    assert _division_values(seen_by_town, "division_name") <= {TOWN.name}
    # The figures are the town's own rows, counted from what was inserted.
    town_rows = [r for r in TOWN_ROWS if r[1] == TOWN.code]
    assert len(seen_by_town[PRECIP_CHART]) == len({r[3] for r in town_rows})
    assert [(r["division_code"], r["max_gust"]) for r in seen_by_town[GUST_TABLE]] == [
        (TOWN.code, max(r[5] for r in town_rows))
    ]
    assert seen_by_town[GUST_TOTAL] == [{"max_gust": max(r[5] for r in town_rows)}]

    # Their passwords went to Superset's hash only: none is readable in its files.
    for path in (p for p in (settings.home_dir / "superset").rglob("*") if p.is_file()):
        content = path.read_bytes()
        assert not any(pw.encode() in content for pw in passwords.values()), f"a user password is readable in {path}"
