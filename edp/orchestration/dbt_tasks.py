"""The dbt project as Airflow tasks: one per model, seed and snapshot, its data tests in a task after it.

Rendered by astronomer-cosmos (``DbtTaskGroup``, ``LoadMode.DBT_MANIFEST``) from the manifest that
:func:`edp.transform.dbt_runner.parse` and every whole-project dbt command of the platform publish
to ``$EDP_HOME/dbt/manifest.json``. DAG files are parsed every few seconds: nothing here runs dbt,
touches the warehouse or writes a file. Without a manifest :func:`dbt_task_group` returns None and
the DAG keeps its single ``dbt build`` task.

Execution mode WATCHER: one task (``dbt_producer_watcher``) runs a single ``dbt build`` of the
whole project, as ``edp transform`` does, and every model's task (and its tests' task) reports
what that build did to its node, so each model is seen on its own in the grid at the cost of one
build (one ``dbt`` process per model and test, ExecutionMode.LOCAL, costs about 25 times the
CPU here: docs/operations.md). A model's task that failed runs ``dbt`` for that model alone on
its retry, or when it is cleared in the UI.

Every dbt process is a subprocess (the ``dbt`` next to this interpreter), with ``dbt/profiles.yml``
and the variables of :func:`edp.transform.dbt_runner.dbt_session_env` (connection, PGOPTIONS, no
network), computed when the task starts: the warehouse password never enters the serialised DAG.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import TaskGroup

    from edp.settings import Settings

GROUP_ID = "dbt"


def _session_env(context: Any) -> None:
    """pre_execute hook of every dbt task: the warehouse connection, from the settings, at run time."""
    from airflow.sdk.log import mask_secret

    from edp.settings import get_settings
    from edp.transform.dbt_runner import dbt_session_env

    env = dbt_session_env(get_settings())
    if env["EDP_DBT_PASSWORD"]:
        mask_secret(env["EDP_DBT_PASSWORD"])
    task = context["task"]
    task.env = {**(task.env or {}), **env}


def per_model(settings: Settings) -> bool:
    """Whether the dbt nodes are tasks of their own (``EDP_DBT_TASKS``; ``auto``: with the Celery executor)."""
    if settings.dbt_tasks == "auto":
        return settings.airflow_executor == "celery"
    return settings.dbt_tasks == "per_model"


def dbt_task_group(settings: Settings | None = None, group_id: str = GROUP_ID) -> TaskGroup | None:
    """The project's nodes as a cosmos ``DbtTaskGroup`` in the DAG being defined; None without a manifest."""
    from edp.settings import get_settings
    from edp.transform.dbt_runner import DBT_PROJECT_DIR, dbt_executable_path, manifest_path

    settings = settings or get_settings()
    if not per_model(settings):
        return None
    manifest = manifest_path(settings)
    if not manifest.exists():
        return None

    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=str(manifest),
            # As edp.transform.dbt_runner.build: dbt deps only if the project declares packages.
            install_dbt_deps=any((DBT_PROJECT_DIR / n).exists() for n in ("packages.yml", "dependencies.yml")),
        ),
        profile_config=ProfileConfig(
            profile_name="edp",
            target_name="warehouse",
            profiles_yml_filepath=Path(DBT_PROJECT_DIR) / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            # A subprocess, as edp.transform runs dbt: dbt's global state never leaks into the task process.
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=str(dbt_executable_path()),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            # The DAG's outlet is the marts Asset, after the whole group; no Asset per model.
            emit_datasets=False,
            # A test of two models (relationships) reports in the test task of each: the build runs it
            # after both. (Detached into tasks of their own, WATCHER publishes no result for them: after
            # a failed build each would run dbt again, 57 dbt processes here.)
            should_detach_multiple_parents_tests=False,
        ),
        operator_args={
            "pre_execute": _session_env,
            # Unit tests run in development and CI (edp.transform.dbt_runner.unit_tests), not on data.
            "env": {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"},
        },
    )
    _start_after_the_build(group)
    return group


def _start_after_the_build(group: Any) -> None:
    """The first models' tasks wait for the build to end (success or failure), then read its results.

    Left to cosmos they start beside it and poll; ``airflow dags test`` (the demo) runs one task at a
    time, and one of them run before the build would poll forever. all_done: after a failed build
    they still run, so each model shows its own outcome and the failed ones retry on their own.
    """
    from airflow.sdk import TaskGroup as _TaskGroup
    from cosmos.constants import PRODUCER_WATCHER_DONE_TASK_ID, PRODUCER_WATCHER_TASK_ID

    tasks: dict[str, Any] = {}

    def collect(g: Any) -> None:
        for child in g.children.values():
            if isinstance(child, _TaskGroup):
                collect(child)
            else:
                tasks[child.task_id] = child

    collect(group)
    producer = tasks[f"{group.group_id}.{PRODUCER_WATCHER_TASK_ID}"]
    internal = {producer.task_id, f"{group.group_id}.{PRODUCER_WATCHER_DONE_TASK_ID}"}
    for task_id, task in tasks.items():
        if task_id in internal or set(task.upstream_task_ids) & tasks.keys():
            continue
        producer >> task
        task.trigger_rule = "all_done"
