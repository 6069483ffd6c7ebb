"""What raises and resolves alerts: Airflow task callbacks and the quality gate.

Keys (one open alert per key):

- ``task:<dag_id>/<task_id>``: a task failed after its retries (kind ``task_failed``, or
  ``source_unavailable`` when the source did not answer); the task's next success resolves it;
- ``quality_blocked:<dataset>``: the gate holds a dataset back (its latest check failed a blocking
  rule); the next check that passes it resolves it;
- ``quality_held:<dataset>``: a row-level blocking rule holds some of a dataset's records back from
  the city (the rest is published); the next check that finds none held resolves it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from edp.alerts.alerting import raise_alert, resolve_alerts
from edp.alerts.store import Alert
from edp.alerts.text import describe_exception
from edp.errors import SourceUnavailable
from edp.settings import Settings, get_settings


def task_key(dag_id: str, task_id: str) -> str:
    return f"task:{dag_id}/{task_id}"


def quality_key(dataset: str) -> str:
    return f"quality_blocked:{dataset}"


def held_key(dataset: str) -> str:
    return f"quality_held:{dataset}"


def _task_of(context: Mapping[str, Any]) -> tuple[str, str, Any]:
    """dag_id, task_id and task instance from an Airflow callback's context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", None)
    task_id = getattr(ti, "task_id", None) or getattr(context.get("task"), "task_id", None)
    if not dag_id or not task_id:
        raise ValueError("the callback's context names no dag_id and task_id")
    return str(dag_id), str(task_id), ti


def _source_of(dag_id: str) -> str | None:
    """The source an ingest DAG reads (its id is the source's name)."""
    from connectors.registry import SOURCES

    return dag_id if dag_id in SOURCES else None


def _kind_of(exc: Any) -> str:
    errors = getattr(exc, "errors", None)  # edp.ingest.extract.DatasetErrors: one error per dataset
    if isinstance(errors, Mapping) and errors and all(isinstance(e, SourceUnavailable) for e in errors.values()):
        return "source_unavailable"
    return "source_unavailable" if isinstance(exc, SourceUnavailable) else "task_failed"


def task_failed(context: Mapping[str, Any], settings: Settings | None = None) -> Alert:
    """Raise the alert of a failed task (Airflow's ``on_failure_callback`` context)."""
    dag_id, task_id, ti = _task_of(context)
    exc = context.get("exception")
    details = {
        "run_id": getattr(ti, "run_id", None) or context.get("run_id"),
        "try_number": getattr(ti, "try_number", None),
        "map_index": getattr(ti, "map_index", None),
        "exception_type": type(exc).__name__ if isinstance(exc, BaseException) else None,
    }
    return raise_alert(
        settings or get_settings(),
        kind=_kind_of(exc),
        key=task_key(dag_id, task_id),
        reason=describe_exception(exc),
        dag_id=dag_id,
        task_id=task_id,
        dataset=_source_of(dag_id),
        details={k: v for k, v in details.items() if v is not None},
    )


def task_succeeded(context: Mapping[str, Any], settings: Settings | None = None) -> list[Alert]:
    """Resolve the open failure alert of a task that succeeded (``on_success_callback``)."""
    dag_id, task_id, _ = _task_of(context)
    return resolve_alerts(settings or get_settings(), key=task_key(dag_id, task_id))


def quality_checked(
    settings: Settings,
    checked: Iterable[str],
    blocked: Mapping[str, Sequence[str]],
    *,
    held: Mapping[str, Sequence[str]] | None = None,
    run_id: str | None = None,
) -> tuple[list[Alert], list[Alert]]:
    """After a check run: raise ``quality_blocked`` per blocked dataset and ``quality_held`` per dataset
    with records held back; resolve those of the checked datasets that are no longer so.

    ``blocked`` / ``held`` map each such dataset to its failing blocking rules. Returns (raised, resolved).
    """
    raised: list[Alert] = []
    resolved: list[Alert] = []
    held = held or {}
    for dataset in checked:
        if dataset in held:
            rules = list(dict.fromkeys(held[dataset]))
            raised.append(
                raise_alert(
                    settings,
                    kind="quality_held",
                    key=held_key(dataset),
                    reason=f"records held back by row-level rule(s) {', '.join(rules[:5])}: edp sync status --held",
                    dataset=dataset,
                    details={"run_id": run_id, "rules": rules},
                )
            )
        else:
            resolved += resolve_alerts(settings, key=held_key(dataset))
        if dataset not in blocked:
            resolved += resolve_alerts(settings, key=quality_key(dataset))
            continue
        rules = list(dict.fromkeys(blocked[dataset]))
        shown = ", ".join(rules[:5]) + (f" (+{len(rules) - 5} more)" if len(rules) > 5 else "")
        raised.append(
            raise_alert(
                settings,
                kind="quality_blocked",
                key=quality_key(dataset),
                reason=f"{len(rules)} blocking rule(s) failed: {shown}" if rules else "blocked (see edp check)",
                dataset=dataset,
                details={"run_id": run_id, "rules": rules},
            )
        )
    return raised, resolved
