"""Schema ``audit``: every check run and every expectation result, kept as history.

Rows are only ever inserted: a later run adds rows, it never updates or
deletes an earlier one. ``audit.dataset_status`` (a view) answers "may this
dataset be published?" from each dataset's latest run. The tables and the
view are made by the migrations (``edp/storage/migrations/0003``–``0005``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from edp.quality import holds as quality_holds
from edp.quality import scope as check_scope
from edp.settings import Settings
from edp.storage.migrate import require_current
from edp.storage.warehouse import engine

if TYPE_CHECKING:
    from edp.quality.runner import CheckRun

_INSERT_RUN = sa.text(
    """
    insert into audit.check_runs
        (run_id, started_at, finished_at, datasets, success, evaluated, passed,
         failed_blocking, failed_warning, data_docs_uri)
    values
        (:run_id, :started_at, :finished_at, :datasets, :success, :evaluated, :passed,
         :failed_blocking, :failed_warning, :data_docs_uri)
    """
)

_INSERT_RESULT = sa.text(
    """
    insert into audit.expectation_results
        (run_id, dataset, suite, expectation_type, expectation_id, kwargs, column_name, dimension,
         dimension_zh, severity, success, observed_value, element_count, unexpected_count,
         unexpected_percent, unexpected_sample, failed_batches, exception, docs_uri, checked_at, level, held_rows)
    values
        (:run_id, :dataset, :suite, :expectation_type, :expectation_id, cast(:kwargs as jsonb), :column_name,
         :dimension, :dimension_zh, :severity, :success, cast(:observed_value as jsonb), :element_count,
         :unexpected_count, :unexpected_percent, cast(:unexpected_sample as jsonb), :failed_batches, :exception,
         :docs_uri, :checked_at, :level, :held_rows)
    """
)


def record(settings: Settings, run: CheckRun) -> None:
    """Insert the run and all its results in one transaction."""
    totals = run.totals()
    with engine(settings).begin() as c:
        c.execute(
            _INSERT_RUN,
            {
                "run_id": run.run_id,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "datasets": list(run.datasets),
                "success": run.success,
                "data_docs_uri": run.data_docs_uri,
                **totals,
            },
        )
        rows = [_result_row(run, o) for o in run.outcomes]
        if rows:
            c.execute(_INSERT_RESULT, rows)
        check_scope.record(c, run.run_id, run.started_at, run.scopes, run.outcomes)
        quality_holds.record(c, run)


def _result_row(run: CheckRun, o: Any) -> dict[str, Any]:
    summary = run.datasets.get(o.dataset)
    return {
        "run_id": run.run_id,
        "dataset": o.dataset,
        "suite": o.suite,
        "expectation_type": o.expectation_type,
        "expectation_id": o.rule_id,
        "kwargs": to_json(o.kwargs),
        "column_name": o.column,
        "dimension": o.dimension,
        "dimension_zh": o.dimension_zh,
        "severity": o.severity,
        "success": o.success,
        "observed_value": None if o.observed_value is None else to_json(o.observed_value),
        "element_count": o.element_count,
        "unexpected_count": o.unexpected_count,
        "unexpected_percent": o.unexpected_percent,
        "unexpected_sample": None if o.unexpected_sample is None else to_json(o.unexpected_sample),
        "failed_batches": list(o.failed_batches) or None,
        "exception": o.exception,
        "docs_uri": summary.docs_uri if summary else None,
        "checked_at": run.finished_at,
        "level": getattr(o, "level", None),
        "held_rows": getattr(o, "held_rows", None),
    }


def dataset_status(settings: Settings, datasets: list[str] | None = None) -> dict[str, str]:
    """Per dataset: ``blocked`` if its latest run failed a blocking rule whose records could not all be
    held back, ``held`` if it failed only row-level blocking rules (published without the held
    records, ``edp.quality.holds``), else ``ok``.

    A registered dataset that was never checked is ``unchecked``.
    """
    from expectations import SUITES

    require_current(settings)
    with engine(settings).connect() as c:
        found: dict[str, str] = dict(
            c.execute(sa.text("select dataset, status from audit.dataset_status")).tuples().all()
        )
    names = datasets if datasets is not None else sorted(set(SUITES) | set(found))
    return {name: found.get(name, "unchecked") for name in names}


def to_json(value: Any) -> str:
    # jsonb rejects NaN/Infinity and json.dumps cannot write datetimes: normalise first.
    return json.dumps(_plain(value), ensure_ascii=False)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return _plain(float(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if hasattr(value, "to_json_dict"):
        return _plain(value.to_json_dict())
    return str(value)
