"""The `water` DAG imports cleanly and is the shared ingest DAG with the schedule of sources.yml."""

from __future__ import annotations

from pathlib import Path

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "water.py"


def test_water_dag_is_the_ingest_dag() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    dag = bag.dags["water"]
    assert "Airflow DAG" in DAG_FILE.read_text(encoding="utf-8").splitlines()[0]
    assert dag.catchup is False and dag.max_active_runs == 1 and "water" in dag.tags
    assert dag.doc_md and "SL 323" in dag.doc_md
    assert {t.task_id for t in dag.tasks} == {"extract", "load"}
    assert all(t.retries >= 2 for t in dag.tasks)
    assert "postgres://warehouse/raw/water" in {o.uri for t in dag.tasks for o in t.outlets}
    assert dag.timetable.expression == "*/15 * * * *"  # from sources.yml
    # Celery: the department's own queue; its pool holds its rate limit across workers.
    assert {(t.queue, t.pool) for t in dag.tasks} == {("water", "source_water")}
