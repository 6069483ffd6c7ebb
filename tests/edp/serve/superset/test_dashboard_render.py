"""Every dashboard rendered in headless Chromium: charts drawn with data, and a broken or empty chart caught.

The API's saved queries can pass while the dashboard, which builds its own queries, shows an error:
only the browser shows what a person sees.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from edp.cli import app
from edp.secrets import generated_secret
from edp.serve import superset
from edp.serve.superset.dashboards import GENERATED_PREFIX
from edp.serve.superset.metadata import ADMIN_USER
from edp.serve.superset.screenshots import render_dashboards
from edp.settings import Settings, reset_settings
from edp.storage import warehouse
from tests.support.dashboard_render import (
    RENDER_TIMEOUT_S,
    assert_dashboards_render,
    count_pixels,
    png_size,
    reddish,
)

pytestmark = [pytest.mark.superset, pytest.mark.integration]

MAP_CHART = "测试点位 Test points map"
MAP_DATASET_UUID = "edb0a5e5-0000-5000-8000-00000000a001"
MAP_CHART_UUID = "edb0a5e5-0000-5000-8000-00000000a002"
DATASET_DIR = "haicheng_edp_warehouse"
# Five points in and around 海城市 (lon, lat).
MAP_POINTS = [
    (1, "海州", 122.75, 40.88),
    (2, "牛庄", 122.55, 40.95),
    (3, "西四", 122.60, 40.75),
    (4, "析木", 123.05, 40.80),
    (5, "感王", 122.90, 40.70),
]
BROKEN_CHART = "全市最大阵风 Citywide max wind gust"
EMPTY_CHART = "各镇街最大阵风 Max wind gust by division"

MART_DDL = """
create schema if not exists marts;
create table marts.fct_weather_hourly_extremes (
    hourly_extreme_id text primary key, division_code text not null, division_name text,
    obs_hour timestamptz not null, station_count int, obs_count int,
    max_precip_1h_mm double precision, max_wind_gust_ms double precision,
    min_visibility_m double precision, avg_temp_c double precision, updated_at timestamptz)
"""
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


def _mart(settings: Settings) -> None:
    with warehouse.engine(settings).begin() as c:
        c.exec_driver_sql(MART_DDL)
        for row in ROWS:
            c.exec_driver_sql(
                "insert into marts.fct_weather_hourly_extremes (hourly_extreme_id, division_code, division_name,"
                " obs_hour, station_count, obs_count, max_precip_1h_mm, max_wind_gust_ms, updated_at)"
                " values (%s, %s, %s, %s, 1, 4, %s, %s, now())",
                row,
            )
        c.exec_driver_sql("create table marts.test_map_points (id int primary key, name text, lon float8, lat float8)")
        for point in MAP_POINTS:
            c.exec_driver_sql("insert into marts.test_map_points values (%s, %s, %s, %s)", point)


def _weather_assets(tmp_path: Path) -> Path:
    """The hand-written weather assets only: this test's warehouse holds that one mart.

    The generated dashboards read every mart: the demo's warehouse has them (tests/e2e/test_demo.py).
    """
    assets = tmp_path / "weather-assets"
    if not assets.exists():
        shutil.copytree(superset.ASSETS_DIR, assets, ignore=shutil.ignore_patterns(f"{GENERATED_PREFIX}*"))
    return assets


def _broken_assets(tmp_path: Path) -> Path:
    """A copy of the assets: the big number's metric on a column that does not exist, the table filtered to nothing."""
    assets = tmp_path / "broken-assets"
    shutil.copytree(_weather_assets(tmp_path), assets)
    big_number = assets / "charts" / "max_gust_citywide.yaml"
    text = big_number.read_text(encoding="utf-8")
    assert "\n  metric: max_gust\n" in text
    text = text.replace(
        "\n  metric: max_gust\n",
        "\n  metric:\n    expressionType: SQL\n    sqlExpression: MAX(no_such_column)\n    label: broken\n",
    )
    big_number.write_text(text, encoding="utf-8")
    table = assets / "charts" / "max_gust_by_division.yaml"
    text = table.read_text(encoding="utf-8")
    assert "\n    subject: obs_hour\n" in text
    text = text.replace(
        "\n    subject: obs_hour\n",
        "\n    subject: obs_hour\n  - clause: WHERE\n    expressionType: SQL\n    sqlExpression: 1 = 0\n",
        1,
    )
    table.write_text(text, encoding="utf-8")
    return assets


def _map_assets(tmp_path: Path) -> Path:
    """A copy of the assets with a deck.gl scatter map (WebGL) of MAP_POINTS, below a spacer taller than the window
    (Superset renders a chart out of view only once scrolled to it)."""
    assets = tmp_path / "map-assets"
    shutil.copytree(_weather_assets(tmp_path), assets)
    weather = yaml.safe_load((assets / "datasets" / DATASET_DIR / "fct_weather_hourly_extremes.yaml").read_text())
    column = {k: v for k, v in weather["columns"][0].items() if k not in ("column_name", "verbose_name", "type")}
    dataset = {
        **{k: v for k, v in weather.items() if k not in ("columns", "metrics")},
        "table_name": "test_map_points",
        "description": "测试点位 Test points",
        "main_dttm_col": None,
        "uuid": MAP_DATASET_UUID,
        "metrics": [weather["metrics"][0]],
        "columns": [
            {**column, "column_name": name, "verbose_name": name, "type": kind}
            for name, kind in (
                ("id", "INTEGER"),
                ("name", "TEXT"),
                ("lon", "DOUBLE PRECISION"),
                ("lat", "DOUBLE PRECISION"),
            )
        ],
    }
    (assets / "datasets" / DATASET_DIR / "test_map_points.yaml").write_text(yaml.safe_dump(dataset, allow_unicode=True))
    chart = yaml.safe_load((assets / "charts" / "max_gust_citywide.yaml").read_text(encoding="utf-8"))
    chart.update(
        slice_name=MAP_CHART,
        description="",
        viz_type="deck_scatter",
        uuid=MAP_CHART_UUID,
        dataset_uuid=MAP_DATASET_UUID,
        query_context=None,
        params={
            "datasource": "0__table",
            "viz_type": "deck_scatter",
            "spatial": {"type": "latlong", "lonCol": "lon", "latCol": "lat"},
            "row_limit": 5000,
            "adhoc_filters": [],
            "point_radius_fixed": {"type": "fix", "value": 3000},
            "point_unit": "square_m",
            "min_radius": 5,
            "max_radius": 250,
            "multiplier": 1,
            "autozoom": True,
            "color_picker": {"r": 205, "g": 0, "b": 3, "a": 0.82},
            "viewport": {"longitude": 122.8, "latitude": 40.83, "zoom": 9, "bearing": 0, "pitch": 0},
            "extra_form_data": {},
            "dashboards": [],
        },
    )
    (assets / "charts" / "test_map.yaml").write_text(yaml.safe_dump(chart, allow_unicode=True), encoding="utf-8")
    dashboard_file = next((assets / "dashboards").glob("*.yaml"))
    dashboard = yaml.safe_load(dashboard_file.read_text(encoding="utf-8"))
    position = dashboard["position"]
    position["GRID_ID"]["children"] += ["ROW-spacer", "ROW-map"]
    row = {"type": "ROW", "meta": {"background": "BACKGROUND_TRANSPARENT"}, "parents": ["ROOT_ID", "GRID_ID"]}
    inner = ["ROOT_ID", "GRID_ID"]
    position["ROW-spacer"] = {**row, "id": "ROW-spacer", "children": ["MARKDOWN-spacer"]}
    position["MARKDOWN-spacer"] = {
        "id": "MARKDOWN-spacer",
        "type": "MARKDOWN",
        "children": [],
        "parents": [*inner, "ROW-spacer"],
        "meta": {"width": 12, "height": 400, "code": "# 间隔 Spacer"},
    }
    position["ROW-map"] = {**row, "id": "ROW-map", "children": ["CHART-map"]}
    position["CHART-map"] = {
        "id": "CHART-map",
        "type": "CHART",
        "children": [],
        "parents": [*inner, "ROW-map"],
        "meta": {"chartId": 99, "uuid": MAP_CHART_UUID, "sliceName": MAP_CHART, "width": 12, "height": 80},
    }
    dashboard_file.write_text(yaml.safe_dump(dashboard, allow_unicode=True), encoding="utf-8")
    return assets


def _assert_a_map_renders_below_the_fold(settings: Settings, url: str, password: str, tmp_path: Path) -> None:
    superset.provision(settings, _map_assets(tmp_path))
    [render] = assert_dashboards_render(url, ADMIN_USER, password, tmp_path / "map")
    [map_chart] = [c for c in render.charts if c.title == MAP_CHART]
    assert map_chart.viz_type == "deck_scatter"
    # Below the spacer (3200 px), far outside a first window, and still drawn.
    assert map_chart.box[1] > 3000
    # Its points, drawn by WebGL in software: five red dots of a few dozen pixels each.
    assert count_pixels(render.screenshot, map_chart.box, reddish) > 5 * 20
    assert not render.console_errors


@pytest.mark.slow  # Superset started, seven dashboards drawn in Chromium: minutes
def test_dashboards_render_in_a_browser(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    settings = settings.model_copy(update={"superset_port": port})
    # The CLI reads its settings from the environment.
    monkeypatch.setenv("EDP_SUPERSET_PORT", str(port))
    reset_settings()
    _mart(settings)
    try:
        url = superset.provision(settings, _weather_assets(tmp_path))["url"]
        password = generated_secret(settings, superset.ADMIN_SECRET)

        # Every chart of every dashboard drawn with data, and a screenshot of each.
        renders = assert_dashboards_render(url, ADMIN_USER, password, tmp_path / "ok")
        assert [r.title for r in renders] == [superset.DASHBOARD_TITLE]
        [weather] = renders
        assert weather.screenshot == tmp_path / "ok" / "haicheng-weather-hourly-extremes.png"
        inventory = superset.asset_inventory(_weather_assets(tmp_path))
        assert {c.title for c in weather.charts} == {c["title"] for c in inventory["charts"]}

        # The CLI, as the admin, into $EDP_HOME/screenshots: one line per dashboard, exit 0.
        result = CliRunner().invoke(app, ["superset", "screenshots"])
        assert result.exit_code == 0, result.output
        assert "3 ok / 0 error / 0 empty" in result.output
        png_size(settings.home_dir / "screenshots" / "haicheng-weather-hourly-extremes.png")

        # A deck.gl map (WebGL) far below the first screen: scrolled to, drawn, its points in the PNG.
        _assert_a_map_renders_below_the_fold(settings, url, password, tmp_path)

        # A chart on a missing column shows Superset's error; one whose filter matches nothing, no data.
        superset.provision(settings, _broken_assets(tmp_path))
        [broken] = render_dashboards(url, ADMIN_USER, password, tmp_path / "broken", timeout_s=RENDER_TIMEOUT_S)
        states = {c.title: c for c in broken.charts}
        assert states[BROKEN_CHART].state == "error"
        assert "no_such_column" in states[BROKEN_CHART].message
        assert states[EMPTY_CHART].state == "empty"
        assert states[EMPTY_CHART].message
        assert [c.state for c in broken.charts].count("ok") == len(broken.charts) - 2
        assert MAP_CHART not in states  # the broken copy's dashboard has no map
        png_size(broken.screenshot)

        out = tmp_path / "cli-broken"
        result = CliRunner().invoke(app, ["superset", "screenshots", "--out", str(out)])
        assert result.exit_code == 1, result.output
        assert "1 ok / 1 error / 1 empty" in result.output
        assert f"error: {BROKEN_CHART}" in result.output
        # Drawn empty while its saved query (the API's) still returns the mart's rows: broken, not "no data".
        assert f"empty although its query returns 3 rows: {EMPTY_CHART}" in result.output
        assert (out / "haicheng-weather-hourly-extremes.png").is_file()
    finally:
        superset.stop_server(settings)
