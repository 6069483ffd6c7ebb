"""Schema ``audit``: every check run and every expectation result, kept as history.

Rows are only ever inserted: a later run adds rows, it never updates or
deletes an earlier one. ``audit.dataset_status`` (a view) answers "may this
dataset be published?" from each dataset's latest run.
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
from edp.storage.warehouse import apply_ddl, engine, ensure_schemas

if TYPE_CHECKING:
    from edp.quality.runner import CheckRun

DDL = (
    """
    create table if not exists audit.check_runs (
        run_id text primary key,
        started_at timestamptz not null,
        finished_at timestamptz not null,
        datasets text[] not null,
        success boolean not null,
        evaluated integer not null,
        passed integer not null,
        failed_blocking integer not null,
        failed_warning integer not null,
        data_docs_uri text
    )
    """,
    """
    create table if not exists audit.expectation_results (
        id bigserial primary key,
        run_id text not null references audit.check_runs (run_id),
        dataset text not null,
        suite text not null,
        expectation_type text not null,
        expectation_id text not null,
        kwargs jsonb not null,
        column_name text,
        dimension text not null,
        dimension_zh text not null,
        severity text not null,
        success boolean not null,
        observed_value jsonb,
        element_count bigint,
        unexpected_count bigint,
        unexpected_percent double precision,
        unexpected_sample jsonb,
        exception text,
        docs_uri text,
        checked_at timestamptz not null
    )
    """,
    # The load batches a failure names (from its sample), so the report can list them without parsing JSON.
    "alter table audit.expectation_results add column if not exists failed_batches text[]",
    "create index if not exists expectation_results_run on audit.expectation_results (run_id, dataset)",
    # Verdicts of python-stdnum on unified social credit codes (edp.quality.uscc); a verdict never changes.
    """
    create table if not exists audit.credit_codes (
        code text primary key,
        is_valid boolean not null,
        reason text,
        checked_at timestamptz not null default now()
    )
    """,
    "create index if not exists expectation_results_dataset on audit.expectation_results (dataset, checked_at)",
    # The latest run that checked each dataset decides its status.
    """
    create or replace view audit.dataset_status as
    with latest as (
        select distinct on (r.dataset) r.dataset, r.run_id, c.started_at
        from audit.expectation_results r
        join audit.check_runs c using (run_id)
        order by r.dataset, c.started_at desc, r.run_id desc
    )
    select
        l.dataset,
        l.run_id,
        l.started_at as checked_at,
        count(*) as evaluated,
        count(*) filter (where r.success) as passed,
        count(*) filter (where not r.success and r.severity = 'blocking') as failed_blocking,
        count(*) filter (where not r.success and r.severity = 'warning') as failed_warning,
        case when bool_or(not r.success and r.severity = 'blocking') then 'blocked' else 'ok' end as status
    from latest l
    join audit.expectation_results r on r.run_id = l.run_id and r.dataset = l.dataset
    group by l.dataset, l.run_id, l.started_at
    """,
)

# Row holds (edp.quality.holds). At merge this becomes a numbered migration (holds: 0011); idempotent.
HOLDS_MIGRATION = (
    """
    create table if not exists audit.row_holds (
        hold_id bigserial primary key,
        run_id text not null,
        last_run_id text not null,
        dataset text not null,
        rule_id text not null,
        record_key jsonb not null,
        key_text text not null,
        batch_id text,
        observed jsonb,
        held_at timestamptz not null,
        released_at timestamptz,
        released_by text
    )
    """,
    "create unique index if not exists row_holds_open on audit.row_holds (dataset, rule_id, key_text) "
    "where released_at is null",
    "create index if not exists row_holds_dataset on audit.row_holds (dataset) where released_at is null",
    "alter table audit.expectation_results add column if not exists level text",
    # Not null: the failure's records are all held (row level), so it does not block the dataset.
    "alter table audit.expectation_results add column if not exists held_rows bigint",
    # Same columns as before (re-created by the older DDL first). A failure whose records are all held
    # no longer blocks: the dataset is 'held' (published without those records).
    """
    create or replace view audit.dataset_status as
    with latest as (
        select distinct on (r.dataset) r.dataset, r.run_id, c.started_at
        from audit.expectation_results r
        join audit.check_runs c using (run_id)
        order by r.dataset, c.started_at desc, r.run_id desc
    )
    select
        l.dataset,
        l.run_id,
        l.started_at as checked_at,
        count(*) as evaluated,
        count(*) filter (where r.success) as passed,
        count(*) filter (where not r.success and r.severity = 'blocking') as failed_blocking,
        count(*) filter (where not r.success and r.severity = 'warning') as failed_warning,
        case
            when bool_or(not r.success and r.severity = 'blocking' and r.held_rows is null) then 'blocked'
            when bool_or(not r.success and r.severity = 'blocking') then 'held'
            else 'ok'
        end as status
    from latest l
    join audit.expectation_results r on r.run_id = l.run_id and r.dataset = l.dataset
    group by l.dataset, l.run_id, l.started_at
    """,
)


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


def ensure_audit(settings: Settings) -> None:
    ensure_schemas(settings)
    apply_ddl(settings, (*DDL, *check_scope.DDL, *HOLDS_MIGRATION), lock=2103810002)


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

    ensure_audit(settings)
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
