"""The committed Superset assets and the pieces of provisioning that need no server."""

from __future__ import annotations

import io
import json
import re
import socket
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from edp.secrets import generated_secret
from edp.serve import superset
from edp.serve.superset.assets import OWNED_UUID_PREFIX, owned
from edp.serve.superset.client import rison
from edp.serve.superset.config import write_config
from edp.serve.superset.reader_role import reader_superset_uri
from edp.serve.superset.subprocesses import run_logged
from edp.settings import Settings

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def test_rison_encodes_list_queries() -> None:
    query = {"filters": [{"col": "slice_name", "opr": "eq", "value": "最大阵风 (it's!)"}], "page_size": 100}
    assert rison(query) == (
        "('filters':!(('col':'slice_name','opr':'eq','value':'最大阵风 (it!'s!!)')),'page_size':100)"
    )
    assert rison([True, False, None]) == "!(!t,!f,!n)"


def test_assets_have_fixed_unique_uuids_and_bilingual_titles() -> None:
    inventory = superset.asset_inventory()
    # The weather dashboard (hand-written) and the six generated from infra/superset/dashboards.
    assert len(inventory["dashboards"]) == 7
    assert len(inventory["databases"]) == 1
    assert len(inventory["charts"]) >= 7 * 3
    uuids = [item["uuid"] for items in inventory.values() for item in items]
    assert len(set(uuids)) == len(uuids)
    assert superset.DASHBOARD_TITLE in {d["title"] for d in inventory["dashboards"]}
    assert inventory["databases"][0]["title"] == superset.DATABASE_NAME
    titles = [item["title"] for item in inventory["charts"] + inventory["dashboards"]]
    assert len(set(titles)) == len(titles), "chart_data and the tests find charts by title"
    for title in titles:
        assert CJK.search(title) and LATIN.search(title), title


def test_committed_database_holds_only_the_placeholder() -> None:
    for path in (superset.ASSETS_DIR / "databases").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["sqlalchemy_uri"] == superset.URI_PLACEHOLDER
        assert "password" not in doc


def test_charts_reference_a_dataset_and_every_chart_is_placed_on_a_dashboard() -> None:
    dataset_uuids = {d["uuid"] for d in superset.asset_inventory()["datasets"]}
    chart_uuids = set()
    for path in (superset.ASSETS_DIR / "charts").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert doc["dataset_uuid"] in dataset_uuids, path.name
        assert doc["query_context"], f"{path.name}: chart_data needs a saved query_context"
        chart_uuids.add(doc["uuid"])
    placed: list[str] = []
    for path in (superset.ASSETS_DIR / "dashboards").glob("*.yaml"):
        dashboard = yaml.safe_load(path.read_text(encoding="utf-8"))
        placed += [
            n["meta"]["uuid"] for n in dashboard["position"].values() if isinstance(n, dict) and n["type"] == "CHART"
        ]
    assert sorted(placed) == sorted(chart_uuids), "every chart on exactly one dashboard"


def _yaml(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def _column_names(column: str | dict[str, Any]) -> str:
    return column if isinstance(column, str) else str(column.get("label") or column.get("sqlExpression"))


def test_every_query_context_agrees_with_its_params() -> None:
    # The dashboard draws from params, chart_data and reports run query_context:
    # the two must ask for the same metrics, columns and viz type.
    for path in sorted((superset.ASSETS_DIR / "charts").glob("*.yaml")):
        doc = _yaml(path)
        params, context = doc["params"], json.loads(doc["query_context"])
        assert doc["viz_type"] == params["viz_type"] == context["form_data"]["viz_type"], path.name
        metrics = params.get("metrics") or [params[k] for k in ("metric",) if k in params]
        [query] = context["queries"]
        assert query["metrics"] == metrics, path.name
        wanted = [params["x_axis"]] if "x_axis" in params else []
        groupby = params.get("groupby") or []
        wanted += [groupby] if isinstance(groupby, str) else list(groupby)
        wanted += list(params.get("all_columns") or [])
        if params["viz_type"] == "deck_scatter":
            # A map asks for its coordinates, the colour dimension and the tooltip's columns.
            spatial = [params["spatial"]["lonCol"], params["spatial"]["latCol"], params["dimension"]]
            wanted = spatial + [c for c in params["tooltip_contents"] if c not in spatial]
        assert [_column_names(c) for c in query.get("columns") or []] == wanted, path.name
        temporal = [f["subject"] for f in params.get("adhoc_filters", []) if f.get("operator") == "TEMPORAL_RANGE"]
        assert [f["col"] for f in query.get("filters", []) if f["op"] == "TEMPORAL_RANGE"] == temporal, path.name


def test_every_dashboard_chart_and_dataset_is_marked_ours() -> None:
    # Provisioning deletes what it owns and the code no longer holds: ownership is the UUID prefix.
    for kind in ("dashboards", "charts", "datasets"):
        for entry in superset.asset_inventory()[kind]:
            assert entry["uuid"].startswith(OWNED_UUID_PREFIX), entry
            assert owned(entry["uuid"])
    assert not owned("d5583531-2810-42dc-a34c-7742d55594ad")


def test_native_filters_target_columns_of_their_dataset() -> None:
    datasets = {
        doc["uuid"]: {c["column_name"] for c in doc["columns"]}
        for doc in map(_yaml, sorted((superset.ASSETS_DIR / "datasets").rglob("*.yaml")))
    }
    for path in sorted((superset.ASSETS_DIR / "dashboards").glob("*.yaml")):
        filters = _yaml(path)["metadata"]["native_filter_configuration"]
        assert "filter_select" in {f["filterType"] for f in filters}, path.name
        assert len({f["id"] for f in filters}) == len(filters)
        for native_filter in filters:
            assert CJK.search(native_filter["name"]) and LATIN.search(native_filter["name"])
            for target in native_filter["targets"]:
                if native_filter["filterType"] == "filter_time":
                    assert target == {}
                    continue
                assert target["column"]["name"] in datasets[target["datasetUuid"]], native_filter["name"]


def _bundle_files(bundle: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {name: zf.read(name).decode() for name in zf.namelist()}


@pytest.mark.integration
def test_bundle_fills_the_uri_only_in_the_database_file(settings: Settings) -> None:
    files = _bundle_files(superset.render_bundle(settings))
    password = generated_secret(settings, superset.READER_SECRET)
    assert {name.split("/", 1)[0] for name in files} == {"edp_superset_assets"}
    assert "edp_superset_assets/metadata.yaml" in files
    database_file = "edp_superset_assets/databases/haicheng_edp_warehouse.yaml"
    database = yaml.safe_load(files.pop(database_file))
    assert database["sqlalchemy_uri"] == reader_superset_uri(settings, masked=False)
    assert database["sqlalchemy_uri"].startswith(f"postgresql+psycopg2://edp_reader:{password}@")
    assert all(password not in text for text in files.values())
    # The committed file is untouched.
    assert password not in (superset.ASSETS_DIR / "databases" / "haicheng_edp_warehouse.yaml").read_text()


@pytest.mark.integration
def test_bundle_refuses_a_committed_uri(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "databases").mkdir()
    (tmp_path / "databases" / "db.yaml").write_text(
        "database_name: x\nsqlalchemy_uri: postgresql://u:secret@h/db\nuuid: 1\nversion: 1.0.0\n", encoding="utf-8"
    )
    with pytest.raises(superset.SupersetError, match="placeholder"):
        superset.render_bundle(settings, assets_dir=tmp_path)


def test_config_keeps_secrets_out(home_settings: Settings) -> None:
    settings = home_settings
    config = write_config(settings).read_text(encoding="utf-8")
    assert generated_secret(settings, "superset_secret_key") not in config
    assert f"sqlite:///{settings.home_dir / 'superset' / 'superset.db'}" in config
    assert 'BABEL_DEFAULT_LOCALE = "zh"' in config
    compile(config, "superset_config.py", "exec")


def test_start_server_refuses_a_port_someone_else_holds(home_settings: Settings) -> None:
    settings = home_settings
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(superset.SupersetError, match=f"port {port} is taken"):
            superset.start_server(settings.model_copy(update={"superset_port": port}))


def test_failed_command_reports_its_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "superset.log"
    cmd = [sys.executable, "-c", "print('boom: metadata locked'); raise SystemExit(3)"]
    with pytest.raises(superset.SupersetError, match=r"exit 3[\s\S]*boom: metadata locked"):
        run_logged(cmd, log)
