"""Great Expectations checkpoints over raw and marts."""

from __future__ import annotations

from airflow.sdk import dag, task

from edp.orchestration.dag_factory import AUDIT_CHECK_RUNS, DEFAULT_ARGS, MARTS, START


@dag(
    dag_id="quality",
    schedule=[MARTS],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["quality", "great-expectations", "数据质量"],
    doc_md="""
### 数据质量 data quality
Runs every suite in `expectations/`; results are appended to `audit`, Data
Docs are published to the lake, then the auditor's report of the last 7 days
is written (HTML + JSON, lake `quality/reports/`). A blocking failure marks the dataset blocked
and the sync DAG will not publish it. The task itself succeeds so that the
results are recorded and the gate (not a red task) decides.
""",
)
def quality() -> None:
    @task
    def run_checks() -> dict:
        from edp.orchestration.pipeline import check

        return check()

    # The report is what the sync sends as `quality_reports`: it follows every check run.
    @task(outlets=[AUDIT_CHECK_RUNS])
    def report() -> dict:
        from edp.orchestration.pipeline import quality_report

        return quality_report()

    run_checks() >> report()


quality()
