"""Every DAG imports cleanly and follows the house rules."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {
    "weather",
    "water",
    "police",
    "natural_resources",
    "transport",
    "bureau",
    "transform",
    "quality",
    "sync_anshan",
}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert EXPECTED <= set(dagbag.dags)


def test_every_dag_has_owner_retries_tags_docs(dagbag) -> None:
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md and dag.doc_md.strip(), f"{dag_id} has no doc_md"
        assert dag.catchup is False, f"{dag_id} catches up"
        assert dag.max_active_runs == 1, f"{dag_id} may overlap runs"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 2, f"{dag_id}.{task.task_id} retries {task.retries}"


def test_dags_are_linked_by_assets(dagbag) -> None:
    weather = dagbag.dags["weather"]
    outlets = {o.uri for t in weather.tasks for o in t.outlets}
    transform = dagbag.dags["transform"]
    assert "postgres://warehouse/raw/weather" in outlets
    assert "postgres://warehouse/raw/weather" in str(transform.timetable.asset_condition)


def test_dag_files_only_orchestrate() -> None:
    heavy = ("great_expectations", "dbt.", "sqlalchemy", "pyarrow", "httpx")
    for path in DAGS.glob("*.py"):
        top_level = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith(("import", "from"))]
        for line in top_level:
            assert not any(h in line for h in heavy), f"{path.name} imports {line!r} at module level"


def test_every_task_raises_and_resolves_alerts(dagbag) -> None:
    from edp.orchestration.dag_factory import alert_on_failure, resolve_on_success

    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            assert alert_on_failure in task.on_failure_callback, f"{dag_id}.{task.task_id} raises no alert"
            assert resolve_on_success in task.on_success_callback, f"{dag_id}.{task.task_id} resolves no alert"


def test_tasks_retry_after_two_minutes_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from edp.orchestration.dag_factory import DEFAULT_ARGS, retry_delay
    from edp.settings import reset_settings

    monkeypatch.delenv("EDP_TASK_RETRY_SECONDS", raising=False)
    reset_settings()
    assert retry_delay() == timedelta(minutes=2)
    monkeypatch.setenv("EDP_TASK_RETRY_SECONDS", "5")
    reset_settings()
    try:
        assert retry_delay() == timedelta(seconds=5)
    finally:
        monkeypatch.undo()
        reset_settings()
    assert DEFAULT_ARGS["retry_delay"] == timedelta(minutes=2)
