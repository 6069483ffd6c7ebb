"""`airflow dags test` for several DAGs in one process: ``python -m edp.orchestration.dags_test <dag_id>...``.

Each DAG runs through Airflow's own ``dags test`` command (its argument
parser and function, as the ``airflow`` executable calls them), in the order
given, stopping at the first that fails. One process instead of one per DAG:
Airflow's import costs seconds on a quiet two-core host (tens of seconds on a
busy one), and the demo runs nine DAGs. Run it in :func:`airflow_env`'s
environment (``edp.orchestration.airflow_run.run_pipeline`` does).
"""

from __future__ import annotations

import sys

# Printed before each DAG: the log shows which one a failure belongs to.
MARKER = "edp dags test:"


def run(dag_ids: list[str]) -> int:
    """Exit status: 0 when every DAG's run succeeded, 1 at the first that did not (named on stderr)."""
    from airflow.cli import cli_parser
    from airflow.configuration import write_default_airflow_configuration_if_needed

    write_default_airflow_configuration_if_needed()
    parser = cli_parser.get_parser()
    for dag_id in dag_ids:
        print(f"{MARKER} {dag_id}", flush=True)
        args = parser.parse_args(["dags", "test", dag_id])
        try:
            args.func(args)
        except SystemExit as stop:  # `dags test` exits with "DagRun failed" when a task failed
            if stop.code not in (None, 0):
                print(f"{MARKER} {dag_id} failed: {stop.code}", file=sys.stderr, flush=True)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
