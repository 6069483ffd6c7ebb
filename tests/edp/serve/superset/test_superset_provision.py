"""`provision` against a real Superset: figures read back through the API equal the mart."""

from __future__ import annotations

import shutil
import socket
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import yaml

from edp.secrets import generated_secret
from edp.serve import superset
from edp.serve.superset import server
from edp.serve.superset.assets import LEGACY_OWNED_UUIDS
from edp.serve.superset.client import admin_client, rison
from edp.serve.superset.dashboards import GENERATED_PREFIX
from edp.settings import Settings
from edp.storage import warehouse
from tests.support.superset_access import (
    assert_chinese_by_default,
    assert_roles_and_rls,
    assert_users_see_their_towns,
)

pytestmark = [pytest.mark.superset, pytest.mark.integration]

PRECIP_CHART = "各镇街逐时最大降水 Max hourly precipitation by division"
GUST_TABLE = "各镇街最大阵风 Max wind gust by division"
GUST_TOTAL = "全市最大阵风 Citywide max wind gust"

MART_DDL = """
create schema if not exists marts;
create table marts.fct_weather_hourly_extremes (
    hourly_extreme_id text primary key, division_code text not null, division_name text,
    obs_hour timestamptz not null, station_count int, obs_count int,
    max_precip_1h_mm double precision, max_wind_gust_ms double precision,
    min_visibility_m double precision, avg_temp_c double precision, updated_at timestamptz)
"""
# (id, code, name, obs_hour in Beijing time, precip mm, gust m/s)
ROWS = [
    ("h1", "210381001", "海州管理区", "2025-07-01 08:00+08", 12.5, 17.2),
    ("h2", "210381001", "海州管理区", "2025-07-01 09:00+08", 3.0, 9.1),
    ("h3", "210381102", "牛庄镇", "2025-07-01 08:00+08", 30.25, 21.4),
    ("h4", "210381103", "西四镇", "2025-07-01 09:00+08", 0.0, 6.5),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _insert(settings: Settings, rows: list[tuple[str, str, str, str, float, float]]) -> None:
    with warehouse.engine(settings).begin() as c:
        for row in rows:
            c.exec_driver_sql(
                "insert into marts.fct_weather_hourly_extremes (hourly_extreme_id, division_code, division_name,"
                " obs_hour, station_count, obs_count, max_precip_1h_mm, max_wind_gust_ms, updated_at)"
                " values (%s, %s, %s, %s, 1, 4, %s, %s, now())",
                row,
            )


def _assert_figures_match_the_mart(settings: Settings, url: str) -> None:
    # Line chart: one point per division and hour, on Beijing wall-clock hours.
    precip = superset.chart_data(settings, url, PRECIP_CHART)
    assert [(r["obs_hour_bjt"], r["division_name"], r["max_precip"]) for r in precip] == [
        (datetime(2025, 7, 1, 8), "海州管理区", 12.5),
        (datetime(2025, 7, 1, 8), "牛庄镇", 30.25),
        (datetime(2025, 7, 1, 9), "海州管理区", 3.0),
        (datetime(2025, 7, 1, 9), "西四镇", 0.0),
    ]
    # Table: max gust per division, highest first.
    gusts = superset.chart_data(settings, url, GUST_TABLE)
    assert [(r["division_code"], r["division_name"], r["max_gust"]) for r in gusts] == [
        ("210381102", "牛庄镇", 21.4),
        ("210381001", "海州管理区", 17.2),
        ("210381103", "西四镇", 6.5),
    ]
    assert superset.chart_data(settings, url, GUST_TOTAL) == [{"max_gust": 21.4}]

    # Charts read the warehouse live: a new mart row shows up without re-provisioning.
    _insert(settings, [("h5", "210381102", "牛庄镇", "2025-07-01 10:00+08", 1.0, 25.0)])
    assert superset.chart_data(settings, url, GUST_TOTAL) == [{"max_gust": 25.0}]

    with pytest.raises(superset.SupersetError, match="no chart titled"):
        superset.chart_data(settings, url, "不存在 No such chart")


def _assert_single_copies(settings: Settings, url: str) -> None:
    with admin_client(settings, url) as client:
        dashboards = client.find("dashboard", "dashboard_title", superset.DASHBOARD_TITLE, ["id"])
        charts = client.get("/api/v1/chart/", params={"q": rison({"page_size": 100})})
        databases = client.find("database", "database_name", superset.DATABASE_NAME, ["id"])
        datasets = client.get("/api/v1/dataset/", params={"q": rison({"page_size": 100})})
    assert len(dashboards) == 1
    assert charts["count"] == 3
    assert len(databases) == 1
    assert datasets["count"] == 1


def _weather_assets(tmp_path: Path) -> Path:
    """The hand-written weather assets only: this test's warehouse holds that one mart.

    The generated dashboards read every mart; they are provisioned and checked on the demo's
    warehouse (tests/e2e/test_demo.py).
    """
    assets = tmp_path / "weather-assets"
    if assets.exists():
        return assets
    shutil.copytree(superset.ASSETS_DIR, assets, ignore=shutil.ignore_patterns(f"{GENERATED_PREFIX}*"))
    return assets


def _assert_every_chart_answers(settings: Settings, url: str, assets: Path) -> None:
    # Every committed chart runs its saved query over the mart rows without an error.
    for chart in superset.asset_inventory(assets)["charts"]:
        assert superset.chart_data(settings, url, chart["title"]), f"{chart['title']}: no rows"


def _assert_a_chart_dropped_from_the_code_disappears(settings: Settings, url: str, tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    shutil.copytree(_weather_assets(tmp_path), assets)
    dropped_file = assets / "charts" / "max_gust_citywide.yaml"
    dropped_uuid = str(yaml.safe_load(dropped_file.read_text(encoding="utf-8"))["uuid"])
    dropped_file.unlink()
    without = superset.provision(settings, assets)
    assert without["retired"] == [f"chart {dropped_uuid}"]
    assert GUST_TOTAL not in {c["title"] for c in without["charts"]}
    with admin_client(settings, url) as client:
        assert client.find("chart", "slice_name", GUST_TOTAL, ["id"]) == []
        assert len(client.find("dashboard", "dashboard_title", superset.DASHBOARD_TITLE, ["id"])) == 1
    # Back to the committed assets: the chart returns, nothing else is retired.
    restored = superset.provision(settings, _weather_assets(tmp_path))
    assert restored["retired"] == []
    assert GUST_TOTAL in {c["title"] for c in restored["charts"]}
    _assert_single_copies(settings, url)


def _assert_assets_from_before_the_uuid_prefix_are_replaced(settings: Settings, url: str, tmp_path: Path) -> None:
    # An installation provisioned with the first assets (random UUIDs, RLS on their dataset)
    # ends with the committed objects only.
    legacy = tmp_path / "legacy"
    weather = _weather_assets(tmp_path)
    shutil.copytree(weather, legacy)
    ours = {kind: [e["uuid"] for e in entries] for kind, entries in superset.asset_inventory(weather).items()}
    renumbered = dict(
        zip(
            sorted(uuid for kind in ("dashboards", "charts", "datasets") for uuid in ours[kind]),
            sorted(LEGACY_OWNED_UUIDS),
            strict=True,
        )
    )
    for path in legacy.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for new, old in renumbered.items():
            text = text.replace(new, old)
        path.write_text(text, encoding="utf-8")
    superset.provision(settings, legacy)
    upgraded = superset.provision(settings, weather)
    assert sorted(item.split()[1] for item in upgraded["retired"]) == sorted(LEGACY_OWNED_UUIDS)
    _assert_single_copies(settings, url)


def _assert_no_secret_on_disk(settings: Settings) -> None:
    # Superset's own files (metadata DB incl. its action log, our log, config)
    # may hold hashes and encrypted values, never a clear secret.
    secrets = [generated_secret(settings, name) for name in (superset.READER_SECRET, superset.ADMIN_SECRET)]
    secrets.append(generated_secret(settings, "superset_secret_key"))
    home = settings.home_dir / "superset"
    for path in (p for p in home.rglob("*") if p.is_file()):
        content = path.read_bytes()
        assert not any(s.encode() in content for s in secrets), f"a secret is readable in {path}"


def test_provision_end_to_end(settings: Settings, tmp_path: Path) -> None:
    # One test, one Superset: its cold start dominates the runtime.
    settings = settings.model_copy(update={"superset_port": _free_port()})
    with warehouse.engine(settings).begin() as c:
        c.exec_driver_sql(MART_DDL)
    _insert(settings, ROWS)
    assets = _weather_assets(tmp_path)
    try:
        first = superset.provision(settings, assets)
        url = first["url"]
        assert url == f"http://127.0.0.1:{settings.superset_port}"
        assert first["database"] == superset.DATABASE_NAME
        assert [d["title"] for d in first["dashboards"]] == [superset.DASHBOARD_TITLE]
        assert {c["title"] for c in first["charts"]} == {PRECIP_CHART, GUST_TABLE, GUST_TOTAL}
        assert httpx.get(first["dashboard_url"], follow_redirects=False).status_code in (200, 302)

        _assert_figures_match_the_mart(settings, url)

        # Again: same server, same objects, updated in place rather than duplicated.
        running = server._read_pidfile(settings)
        second = superset.provision(settings, assets)
        assert server._read_pidfile(settings) == running
        assert second.pop("seconds") > 0 and first.pop("seconds") > 0
        assert second == first
        _assert_single_copies(settings, url)
        _assert_every_chart_answers(settings, url, assets)
        _assert_a_chart_dropped_from_the_code_disappears(settings, url, tmp_path)
        _assert_assets_from_before_the_uuid_prefix_are_replaced(settings, url, tmp_path)
        _assert_no_secret_on_disk(settings)
        # Roles and per-town access, as the analyst and a town officer see the dashboards.
        assert_chinese_by_default(url)
        assert_roles_and_rls(settings, url)
        assert_users_see_their_towns(settings, url, lambda rows: _insert(settings, rows))
    finally:
        stopped = superset.stop_server(settings)
    assert stopped
    assert superset.stop_server(settings) is False
    assert not server._healthy(url)
