"""The transform DAG: a task per dbt model, seed and snapshot, its tests after it; a dbt build without a manifest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edp.settings import Settings, reset_settings
from edp.transform.dbt_runner import manifest_path, parse
from tests.support.platform import NO_WAREHOUSE_URL

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "transform.py"
GROUP = "dbt"
BUILT = ("model", "seed", "snapshot")


def _transform_dag(home: Path, monkeypatch: pytest.MonkeyPatch, dbt_tasks: str = "per_model") -> Any:
    """dags/transform.py parsed as the dag-processor does, with ``home`` as EDP_HOME."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("EDP_DBT_TASKS", dbt_tasks)
    monkeypatch.setenv("EDP_HOME", str(home))
    monkeypatch.setenv("EDP_WAREHOUSE_URL", NO_WAREHOUSE_URL)
    reset_settings()
    try:
        bag = DagBag(dag_folder=str(DAG_FILE))
    finally:
        reset_settings()
    assert bag.import_errors == {}
    return bag.dags["transform"]


@pytest.fixture(scope="module")
def parsed_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose manifest comes from ``dbt parse`` of the project (no warehouse needed to parse)."""
    home = tmp_path_factory.mktemp("edp-home")
    published = parse(Settings(home=home, warehouse_url=NO_WAREHOUSE_URL))
    assert published == manifest_path(Settings(home=home))
    return home


@pytest.fixture(scope="module")
def manifest(parsed_home: Path) -> dict[str, Any]:
    return json.loads((parsed_home / "dbt" / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture
def dag(parsed_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield _transform_dag(parsed_home, monkeypatch)


def _built_nodes(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in BUILT}


def _build_task(dag: Any, node: dict[str, Any]) -> Any:
    verb = {"model": "run", "seed": "seed", "snapshot": "snapshot"}[node["resource_type"]]
    for task_id in (f"{GROUP}.{node['name']}.{verb}", f"{GROUP}.{node['name']}_{verb}"):
        if task_id in dag.task_dict:
            return dag.task_dict[task_id]
    raise AssertionError(f"no task builds {node['unique_id']}")


def _upstream_closure(dag: Any, task: Any) -> set[str]:
    seen: set[str] = set()
    todo = list(task.upstream_task_ids)
    while todo:
        task_id = todo.pop()
        if task_id not in seen:
            seen.add(task_id)
            todo.extend(dag.task_dict[task_id].upstream_task_ids)
    return seen


def test_every_model_seed_and_snapshot_has_its_task(dag: Any, manifest: dict[str, Any]) -> None:
    nodes = _built_nodes(manifest)
    assert sum(n["resource_type"] == "model" for n in nodes.values()) > 50
    for node in nodes.values():
        task = _build_task(dag, node)
        assert task.model_unique_id == node["unique_id"]
    for task in dag.tasks:  # the house rules of tests/dags/test_dag_integrity.py, on every generated task
        assert task.owner == "edp-data-team" and task.retries >= 2, task.task_id


def test_one_dbt_build_runs_and_every_task_reads_its_result_after_it(dag: Any) -> None:
    producer = dag.task_dict[f"{GROUP}.dbt_producer_watcher"]
    assert producer.base_cmd == ["build"]
    assert "prepare" in producer.upstream_task_ids
    watchers = [t for t in dag.tasks if hasattr(t, "model_unique_id") and t is not producer]
    assert len(watchers) > 100
    for task in watchers:
        assert producer.task_id in _upstream_closure(dag, task), task.task_id


def test_a_models_task_runs_after_its_parents_tasks(dag: Any, manifest: dict[str, Any]) -> None:
    nodes = _built_nodes(manifest)
    for node in nodes.values():
        upstream = _upstream_closure(dag, _build_task(dag, node))
        for parent in node["depends_on"].get("nodes", []):
            if parent in nodes:
                assert _build_task(dag, nodes[parent]).task_id in upstream, f"{node['name']} before {parent}"


def test_a_models_tests_run_in_a_task_after_it(dag: Any, manifest: dict[str, Any]) -> None:
    nodes = _built_nodes(manifest)
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    tested = {t["depends_on"].get("nodes", [])[0] for t in tests if len(t["depends_on"].get("nodes", [])) == 1}
    assert tested
    for uid in tested & set(nodes):
        node = nodes[uid]
        test_task = dag.task_dict[f"{GROUP}.{node['name']}.test"]
        assert _build_task(dag, node).task_id in _upstream_closure(dag, test_task)
        # A model's children wait for its tests.
        for child in (n for n in nodes.values() if uid in n["depends_on"].get("nodes", [])):
            assert test_task.task_id in _upstream_closure(dag, _build_task(dag, child))


def test_a_test_of_two_models_reports_in_the_test_task_of_each(dag: Any, manifest: dict[str, Any]) -> None:
    nodes = _built_nodes(manifest)
    multi = {
        uid: n
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "test" and len(n["depends_on"].get("nodes", [])) > 1
    }
    assert multi
    producer = dag.task_dict[f"{GROUP}.dbt_producer_watcher"]
    for uid, test in multi.items():
        for parent in test["depends_on"].get("nodes", []):
            if parent in nodes:
                assert f"{GROUP}.{nodes[parent]['name']}.test" in dag.task_dict
                assert uid in producer.tests_per_model[parent]


def test_the_marts_asset_follows_every_dbt_task(dag: Any) -> None:
    marts_built = dag.task_dict["marts_built"]
    assert {o.uri for o in marts_built.outlets} == {"postgres://warehouse/marts/all"}
    dbt_tasks = {t.task_id for t in dag.tasks if t.task_id.startswith(f"{GROUP}.")}
    assert dbt_tasks <= _upstream_closure(dag, marts_built)
    assert not any(t.outlets for t in dag.tasks if t.task_id.startswith(f"{GROUP}."))
    assert "marts_built" in dag.task_dict["publish_docs"].upstream_task_ids


def test_the_warehouse_connection_is_not_in_the_dag(dag: Any) -> None:
    for task in dag.tasks:
        env = getattr(task, "env", None) or {}
        assert not any(k.startswith("EDP_DBT_") for k in env), task.task_id


def test_without_a_manifest_the_dag_is_one_dbt_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dag = _transform_dag(tmp_path, monkeypatch)
    assert set(dag.task_dict) == {"dbt_build", "publish_docs"}
    assert {o.uri for o in dag.task_dict["dbt_build"].outlets} == {"postgres://warehouse/marts/all"}
    assert not (tmp_path / "dbt").exists()  # parsing the DAG wrote nothing


@pytest.mark.parametrize(
    ("dbt_tasks", "executor", "per_model"),
    [("auto", "local", False), ("auto", "celery", True), ("single", "celery", False)],
)
def test_one_task_per_model_by_default_only_with_celery(
    parsed_home: Path, monkeypatch: pytest.MonkeyPatch, dbt_tasks: str, executor: str, per_model: bool
) -> None:
    monkeypatch.setenv("EDP_AIRFLOW_EXECUTOR", executor)
    dag = _transform_dag(parsed_home, monkeypatch, dbt_tasks)
    assert ("dbt_build" in dag.task_ids) is not per_model
    assert (len(dag.task_ids) > 100) is per_model
