"""raw → staging → intermediate → marts with dbt: one task per model, its tests after it."""

from __future__ import annotations

from airflow.sdk import dag, task

from edp.orchestration.dag_factory import DEFAULT_ARGS, MARTS, START, any_raw_asset
from edp.orchestration.dbt_tasks import dbt_task_group


@dag(
    dag_id="transform",
    schedule=any_raw_asset(),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["transform", "dbt"],
    doc_md="""
### dbt, one task per model
Runs when raw data changes. `prepare` makes sure every raw table the dbt
sources declare exists. In the group `dbt`, `dbt_producer_watcher` runs one
`dbt build` of the project in `dbt/` with the platform's warehouse settings,
and each model, seed and snapshot has its task (`<model>.run`, its data tests
`<model>.test`, which also reports a test of two models) in the manifest's order,
showing what the build did to that node. A failed model's task reruns dbt for
that model alone on its retry; clear it (with downstream) to rerun it by hand.
`marts_built` updates the marts Asset (the quality DAG follows it);
`publish_docs` publishes the dbt docs to the lake (`dbt/docs/`, served by
`edp docs serve`) and refreshes the manifest.

Until `$EDP_HOME/dbt/manifest.json` exists (`edp dbt-parse`, `edp transform`
or one run of this DAG writes it) the group is a single `dbt_build` task.
""",
)
def transform() -> None:
    @task
    def publish_docs() -> dict:
        from edp.orchestration.pipeline import publish_docs as run

        return run()

    models = dbt_task_group()
    if models is None:

        @task(outlets=[MARTS])
        def dbt_build() -> dict:
            from edp.orchestration.pipeline import transform as run

            return run()

        dbt_build() >> publish_docs()
        return

    @task
    def prepare() -> dict:
        from edp.orchestration.pipeline import prepare_transform

        return prepare_transform()

    @task(outlets=[MARTS])
    def marts_built() -> None:
        """Every model and test of the group succeeded: the marts Asset is updated."""

    prepare() >> models >> marts_built() >> publish_docs()


transform()
