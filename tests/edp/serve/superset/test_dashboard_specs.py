"""Dashboards as code: the specs in infra/superset/dashboards give exactly the committed asset YAML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edp.serve.superset import dashboards
from edp.serve.superset.errors import SupersetError
from edp.serve.superset.paths import ASSETS_DIR

# Schemas edp_reader may not read: a virtual dataset naming one would fail for every user.
FORBIDDEN_SCHEMAS = re.compile(r"\b(raw|ops|audit|sync|ref|staging|intermediate|snapshots|pseudonym\w*)\.\w+", re.I)


def test_the_committed_assets_and_exposures_are_what_the_specs_give() -> None:
    assert dashboards.stale_assets() == [], "run `edp superset assets` and commit the result"


def test_the_cli_check_reports_a_stale_file(tmp_path: Path) -> None:
    edp = Path(sys.executable).with_name("edp")
    ok = subprocess.run([str(edp), "superset", "assets", "--check"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    # A generated file edited by hand is out of step (checked against a copy of the assets).
    assets = tmp_path / "assets"
    shutil.copytree(ASSETS_DIR, assets)
    edited = assets / "charts" / "g_events_total.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("事件数", "事件"), encoding="utf-8")
    (assets / "charts" / "g_retired_chart.yaml").write_text("slice_name: x\n", encoding="utf-8")
    assert dashboards.stale_assets(assets) == ["charts/g_retired_chart.yaml", "charts/g_events_total.yaml"]
    written = dashboards.write_assets(assets)
    assert written == {"written": ["charts/g_events_total.yaml"], "deleted": ["charts/g_retired_chart.yaml"]}
    assert dashboards.stale_assets(assets) == []


def test_six_generated_dashboards_each_with_a_town_or_dataset_filter_and_bilingual_titles() -> None:
    specs = {spec["key"]: spec for spec in dashboards.load_specs()}
    assert set(specs) == {"risk_map", "warnings_events", "hazmat_enterprise", "resources", "quality", "exchange"}
    built = dashboards.build_assets()
    for key, spec in specs.items():
        doc = yaml.safe_load(built[f"dashboards/g_{key}.yaml"])
        assert re.search(r"[\u4e00-\u9fff]", doc["dashboard_title"]) and re.search(
            r"[A-Za-z]{3}", doc["dashboard_title"]
        )
        assert doc["metadata"]["native_filter_configuration"], key
        charts = [n for n in doc["position"].values() if isinstance(n, dict) and n.get("type") == "CHART"]
        assert len(charts) == len(spec["charts"]) >= 4, key
        # Rows never overflow the 12-column grid.
        for row in (n for n in doc["position"].values() if isinstance(n, dict) and n.get("type") == "ROW"):
            assert sum(doc["position"][c]["meta"]["width"] for c in row["children"]) <= 12
    # The operational dashboards refresh themselves; the registers' do not need to.
    refresh = {key: spec.get("refresh_seconds", 0) for key, spec in specs.items()}
    assert refresh["risk_map"] == refresh["warnings_events"] == refresh["exchange"] == 300


def test_datasets_read_marts_only_and_every_town_dataset_carries_division_code() -> None:
    datasets = dashboards.load_datasets()
    for ds in datasets.values():
        if ds.sql:
            assert not FORBIDDEN_SCHEMAS.search(ds.sql), (ds.key, FORBIDDEN_SCHEMAS.search(ds.sql))
            assert "{TOWN_CODES}" not in ds.sql
    # Row-level security filters on division_code: every dataset with a town name has the code too.
    for ds in datasets.values():
        if "division_name" in ds.columns:
            assert "division_code" in ds.columns, ds.key


def test_columns_come_from_the_dbt_contracts_with_beijing_twins() -> None:
    contracts = dashboards.dbt_contract_columns()
    events = dashboards.load_datasets()["hazard_events"]
    for name, col in contracts["fct_hazard_event"].items():
        assert events.columns[name].data_type == col.data_type
    twin = events.columns["occurred_at_bjt"]
    assert twin.expression == "occurred_at AT TIME ZONE 'Asia/Shanghai'"
    # The town name is spelt out from ref_divisions: all 26 towns, nothing else.
    name_sql = events.columns["division_name"].expression or ""
    assert name_sql.count("WHEN '") == 26 and "'210381104000' THEN '析木镇'" in name_sql
    doc = dashboards.dataset_doc(events)
    assert {c["column_name"] for c in doc["columns"]} == set(events.columns)
    by_name = {c["column_name"]: c for c in doc["columns"]}
    assert by_name["occurred_at"]["is_dttm"] and by_name["occurred_at"]["type"] == "TIMESTAMP WITH TIME ZONE"
    assert by_name["lon"]["type"] == "DOUBLE PRECISION" and not by_name["lon"]["is_dttm"]


def test_a_chart_and_its_query_context_ask_for_the_same_thing() -> None:
    datasets = dashboards.load_datasets()
    chart = {
        "key": "t",
        "title": "t",
        "viz": "echarts_timeseries_bar",
        "dataset": "hazard_events",
        "x": "occurred_at_bjt",
        "grain": "P1D",
        "groupby": ["top_category_name"],
        "metrics": ["count"],
        "where": "severity = 'severe'",
    }
    doc = dashboards.chart_doc(chart, datasets["hazard_events"])
    [query] = json.loads(doc["query_context"])["queries"]
    assert query["columns"][0]["sqlExpression"] == "occurred_at_bjt" and query["columns"][0]["timeGrain"] == "P1D"
    assert query["columns"][1:] == ["top_category_name"] and query["metrics"] == ["count"]
    assert query["extras"]["where"] == "(severity = 'severe')"
    assert {"expressionType": "SQL", "clause": "WHERE", "sqlExpression": "severity = 'severe'"} in doc["params"][
        "adhoc_filters"
    ]
    # The date-range filter reaches it through the dataset's time column.
    assert query["filters"] == [{"col": "occurred_at", "op": "TEMPORAL_RANGE", "val": "No filter"}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"groupby": ["no_such_column"]}, "has no column 'no_such_column'"),
        ({"metrics": ["no_such_metric"]}, "has no metric 'no_such_metric'"),
        ({"viz": "word_cloud"}, "unknown viz"),
    ],
)
def test_a_spec_naming_what_does_not_exist_is_refused(change: dict[str, object], message: str) -> None:
    chart = {"key": "bad", "title": "t", "viz": "table", "dataset": "hazard_events", "groupby": ["source"]}
    with pytest.raises(SupersetError, match=message):
        dashboards.chart_doc(chart | change, dashboards.load_datasets()["hazard_events"])


def test_each_dashboard_has_a_dbt_exposure_naming_the_marts_it_reads() -> None:
    exposures = {e["name"]: e for e in yaml.safe_load(dashboards.build_exposures())["exposures"]}
    assert set(exposures) == {f"superset_{spec['key']}" for spec in dashboards.load_specs()}
    risk_map = exposures["superset_risk_map"]
    assert risk_map["type"] == "dashboard"
    assert set(risk_map["depends_on"]) == {
        "ref('dim_hazard_site')",
        "ref('dim_resource_site')",
        "ref('fct_division_readiness')",
        "ref('fct_hazard_event')",
        "ref('fct_warning')",
    }
    assert "ref('rpt_exchange_status')" in exposures["superset_exchange"]["depends_on"]
