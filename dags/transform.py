"""raw → staging → intermediate → marts with dbt."""

from __future__ import annotations

from airflow.sdk import dag, task

from edp.orchestration.dag_factory import DEFAULT_ARGS, MARTS, START, any_raw_asset


@dag(
    dag_id="transform",
    schedule=any_raw_asset(),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["transform", "dbt"],
    doc_md="""
### dbt build
Runs when raw data changes: `dbt build` of the project in `dbt/` (models,
seeds, snapshots and tests) with the platform's warehouse settings, then
publishes the dbt docs to the lake (`dbt/docs/`, served by `edp docs serve`).
""",
)
def transform() -> None:
    @task(outlets=[MARTS])
    def dbt_build() -> dict:
        from edp.orchestration.pipeline import transform as run

        return run()

    @task
    def publish_docs() -> dict:
        from edp.orchestration.pipeline import publish_docs as run

        return run()

    dbt_build() >> publish_docs()


transform()
