"""`edp check`: run the GX suites of ``expectations/`` against the warehouse.

One run validates each selected dataset with its suite through one
Checkpoint per dataset (raw: the current rows, a query asset, see
``expectations.raw``; marts: the whole table), appends every expectation
result to schema ``audit`` and publishes Data Docs to the lake. A failed
*blocking* rule marks the dataset ``blocked`` (:func:`dataset_status`); the
sync refuses to publish it, and a ``quality_blocked`` alert is raised (resolved
by the first run that lets it through again, ``edp.alerts.hooks``). A failed
*row-level* blocking rule (``expectations.levels``) holds back only its failing
records (``edp.quality.holds``): the dataset is ``held`` and published without
them. Warnings are recorded and shown, nothing more.

Before GX runs, credit codes are validated in Python (``edp.quality.uscc``).
Failing samples name rows by key and load batch, with personal information
masked (``edp.quality.samples``).

The GX context is ephemeral: data source, suites and checkpoint exist only
for the run (so the warehouse URL is never written to disk); validation
results and the Data Docs site persist under ``$EDP_HOME/gx/``.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from edp.errors import NotFound
from edp.quality import audit as quality_audit
from edp.quality import data_docs as quality_docs
from edp.quality import holds as quality_holds
from edp.quality import samples as quality_samples
from edp.quality import scope as check_scope
from edp.quality import uscc as quality_uscc
from edp.quality.audit import dataset_status
from edp.settings import Settings
from edp.storage.migrate import require_current
from edp.storage.warehouse import engine, session_url
from expectations import SUITES, Dimension, Severity, Suite
from expectations.dimensions import DIMENSION_LABELS
from expectations.levels import Level, level_of

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.datasource.fluent import SQLDatasource
    from great_expectations.datasource.fluent.sql_datasource import QueryAsset, TableAsset

log = logging.getLogger(__name__)

DATASOURCE = "warehouse"
SAMPLE_SIZE = quality_samples.SAMPLE_SIZE
UNREADABLE = "edp_table_is_readable"  # our own pseudo-expectation when GX cannot read the table

__all__ = ["CheckRun", "DatasetSummary", "Outcome", "dataset_status", "run_checks"]


@dataclass(frozen=True)
class Outcome:
    """The result of one expectation on one dataset, as it goes to the audit table."""

    dataset: str
    suite: str
    expectation_type: str
    rule_id: str
    kwargs: dict[str, Any]
    column: str | None
    dimension: str
    severity: str
    success: bool
    observed_value: Any = None
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    unexpected_sample: Any = None
    exception: str | None = None
    failed_batches: tuple[str, ...] = ()
    # Row or dataset (expectations.levels).
    level: str = Level.DATASET
    # Row-level blocking rules: the failing records, all named by key (None: they cannot all be
    # named, so the failure blocks the dataset); the open holds this run releases; holds carried.
    held: tuple[quality_holds.HeldRow, ...] | None = None
    released: tuple[str, ...] = ()
    held_earlier: int = 0

    @property
    def dimension_zh(self) -> str:
        return DIMENSION_LABELS[Dimension(self.dimension)]

    @property
    def blocking(self) -> bool:
        return self.severity == Severity.BLOCKING

    @property
    def is_held(self) -> bool:
        """A failed row-level blocking rule whose records are held back instead of the dataset."""
        return not self.success and self.blocking and self.level == Level.ROW and self.held is not None

    @property
    def held_rows(self) -> int | None:
        return len(self.held or ()) + self.held_earlier if self.is_held else None

    @property
    def blocks(self) -> bool:
        """Fails a blocking rule and holds back the whole dataset."""
        return not self.success and self.blocking and not self.is_held


@dataclass(frozen=True)
class DatasetSummary:
    dataset: str
    suite: str
    evaluated: int
    passed: int
    failed_blocking: int
    failed_warning: int
    docs_uri: str | None = None
    scope: str = "whole table"
    # Failed row-level blocking rules (counted in failed_blocking) whose records are held back.
    held_rules: int = 0
    held_rows: int = 0

    @property
    def status(self) -> str:
        """``blocked``: not published; ``held``: published without the held records; ``ok``."""
        if self.failed_blocking > self.held_rules:
            return "blocked"
        return "held" if self.held_rules else "ok"


@dataclass(frozen=True)
class CheckRun:
    run_id: str
    started_at: datetime
    finished_at: datetime
    datasets: dict[str, DatasetSummary]
    outcomes: tuple[Outcome, ...]
    data_docs_uri: str | None
    scopes: dict[str, check_scope.Scope] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """No blocking rule failed (warnings do not fail a run; held records do: they wait for a fix)."""
        return all(s.failed_blocking == 0 for s in self.datasets.values())

    @property
    def pass_rate(self) -> float:
        """Passed expectations over evaluated ones, 0..1, across all datasets."""
        totals = self.totals()
        return totals["passed"] / totals["evaluated"] if totals["evaluated"] else 1.0

    def totals(self) -> dict[str, int]:
        keys = ("evaluated", "passed", "failed_blocking", "failed_warning")  # audit.check_runs' columns
        return {k: sum(getattr(s, k) for s in self.datasets.values()) for k in keys}

    @property
    def verdict(self) -> str:
        statuses = {s.status for s in self.datasets.values()}
        return "BLOCKED" if "blocked" in statuses else "HELD" if "held" in statuses else "ok"

    def as_dict(self) -> dict[str, Any]:
        """What ``edp check`` reports (as a table or JSON): the run, each dataset, each failed rule."""
        return {
            "run_id": self.run_id,
            "verdict": self.verdict,
            "success": self.success,
            **self.totals(),
            "pass_rate": round(self.pass_rate, 4),
            "data_docs_uri": self.data_docs_uri,
            "datasets": [
                {
                    "dataset": name,
                    "status": s.status,
                    "passed": s.passed,
                    "evaluated": s.evaluated,
                    "failed_blocking": s.failed_blocking,
                    "failed_warning": s.failed_warning,
                    "held_rows": s.held_rows,
                    "scope": s.scope,
                }
                for name, s in self.datasets.items()
            ],
            "failures": [
                {"dataset": o.dataset, "severity": str(o.severity), "rule": o.rule_id, "detail": _describe(o)}
                for o in self.outcomes
                if not o.success
            ],
        }

    def summary_lines(self) -> list[str]:
        t = self.totals()
        verdict = self.verdict
        lines = [
            f"check run {self.run_id}: {verdict}, {t['passed']}/{t['evaluated']} passed ({self.pass_rate:.1%})",
        ]
        width = max((len(d) for d in self.datasets), default=0)
        for name, s in self.datasets.items():
            lines.append(
                f"  {name:<{width}}  {s.status:<7}  {s.passed}/{s.evaluated} passed, "
                f"{s.failed_blocking} blocking, {s.failed_warning} warning ({s.scope})"
                + (f"; {s.held_rows} record(s) held back by {s.held_rules} row-level rule(s)" if s.held_rules else "")
            )
            lines += [f"    ✗ {_describe(o)}" for o in self.outcomes if o.dataset == name and not o.success]
        lines.append(f"data docs: {self.data_docs_uri or 'not published (see log)'}")
        return lines


def _describe(o: Outcome) -> str:
    detail = o.exception or (
        f"{o.unexpected_count} unexpected" if o.unexpected_count is not None else f"observed {o.observed_value}"
    )
    held = f"; row level: {o.held_rows} record(s) held back, not the dataset" if o.is_held else ""
    return f"[{o.severity}] {o.rule_id} ({o.dimension_zh} {o.dimension}): {detail}{held}"


def run_checks(settings: Settings, datasets: list[str] | None = None, *, full: bool = False) -> CheckRun:
    """Validate ``datasets`` (default: every dataset in ``expectations.SUITES``) and record the run.

    Raw incremental datasets are validated in full or only in their new batches (``edp.quality.scope``);
    ``full`` validates every current row of each.
    """
    started = datetime.now(UTC)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"  # sorts by time, like audit readers expect
    require_current(settings)
    check_scope.drop_stale_work(settings, started)
    scopes = check_scope.plan(
        settings,
        {name: SUITES[name] for name in _selected(datasets, set(settings.sources()))},
        full=full,
        now=started,
        full_every=timedelta(hours=settings.check_full_every_hours),
    )
    entries = {name: scope.apply(SUITES[name]) for name, scope in scopes.items()}
    schedules = {name: cfg.schedule for name, cfg in settings.sources().items()}
    suites = {name: entry.build(schedules) for name, entry in entries.items()}
    quality_uscc.refresh(settings, entries.values())

    context = _context(settings)
    source = context.data_sources.add_or_update_sql(DATASOURCE, connection_string=_connection_string(settings))
    try:
        outcomes, results = _validate(settings, context, source, entries, suites, scopes, run_id, started)
        outcomes = check_scope.add_carried(settings, outcomes, scopes)
        outcomes = quality_holds.carry(settings, outcomes, scopes)
    finally:
        source.get_engine().dispose()  # the next run builds a new context and engine

    docs_uri, pages = _publish_docs(settings, context, results)
    finished = datetime.now(UTC)
    summaries = {
        name: _summarise(
            name, suite.name, outcomes, pages.get(results[name][0]) if name in results else None, scopes[name]
        )
        for name, suite in suites.items()
    }
    run = CheckRun(run_id, started, finished, summaries, tuple(outcomes), docs_uri, scopes)
    quality_audit.record(settings, run)
    log.info("check run %s: %s", run_id, "ok" if run.success else "blocked")
    _alert(settings, run)
    return run


def _alert(settings: Settings, run: CheckRun) -> None:
    """A ``quality_blocked`` alert per dataset the gate now blocks, a ``quality_held`` one per dataset with
    records held back; resolve those it lets through again.

    The gate is :func:`dataset_status` (the latest run of each dataset). Alerts never fail the check.
    """
    try:
        from edp.alerts.hooks import quality_checked

        status = dataset_status(settings, list(run.datasets))
        blocked = {
            name: [o.rule_id for o in run.outcomes if o.dataset == name and o.blocks]
            for name, verdict in status.items()
            if verdict == "blocked"
        }
        held = {
            name: [o.rule_id for o in run.outcomes if o.dataset == name and o.is_held]
            for name, verdict in status.items()
            if verdict == "held"
        }
        quality_checked(settings, list(run.datasets), blocked, held=held, run_id=run.run_id)
    except Exception:
        log.warning("check run %s: quality alerts not recorded", run.run_id, exc_info=True)


def _selected(datasets: list[str] | None, configured: set[str]) -> list[str]:
    if datasets is None:
        # Not the raw suites of a registered source that sources.yml does not configure (yet): it has no
        # schedule to judge freshness by and nothing loaded (``edp sources new`` registers one so).
        return [name for name, suite in SUITES.items() if suite.source is None or suite.source in configured]
    unknown = [d for d in datasets if d not in SUITES]
    if unknown:
        raise NotFound(f"no suite for {', '.join(unknown)} (known: {', '.join(sorted(SUITES))})")
    return list(dict.fromkeys(datasets))


def _connection_string(settings: Settings) -> str:
    # Holds the password on a configured warehouse: passed to GX, never logged or written.
    # Named and protected like every platform session (edp.storage.sessions).
    return session_url(settings).render_as_string(hide_password=False)


def _context(settings: Settings) -> AbstractDataContext:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    defaults = InMemoryStoreBackendDefaults()
    stores = dict(defaults.stores)
    # Validation results are history, and the Data Docs index is rendered from them: keep them on disk.
    stores[defaults.validation_results_store_name] = {
        "class_name": "ValidationResultsStore",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(quality_docs.gx_home(settings) / "validations"),
        },
    }
    config = DataContextConfig(
        store_backend_defaults=defaults,
        stores=stores,
        data_docs_sites=quality_docs.site_config(settings),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _validate(
    settings: Settings,
    context: AbstractDataContext,
    source: SQLDatasource,
    entries: dict[str, Suite],
    suites: dict[str, ExpectationSuite],
    scopes: dict[str, check_scope.Scope],
    run_id: str,
    started: datetime,
) -> tuple[list[Outcome], dict[str, tuple[Any, ExpectationSuiteValidationResult]]]:
    """One checkpoint per readable dataset; an unreadable table is a blocking failure.

    One checkpoint each because the result format differs: a failing row is
    named by the dataset's own key (and load batch) columns.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    outcomes: list[Outcome] = []
    results: dict[str, tuple[Any, ExpectationSuiteValidationResult]] = {}
    for number, (name, suite) in enumerate(suites.items(), start=1):
        began = time.perf_counter()
        problem = _unreadable_reason(settings, entries[name])
        with contextlib.ExitStack() as stack:
            entry = entries[name]
            if problem is None:
                try:
                    entry = stack.enter_context(check_scope.current_rows_table(settings, entry, scopes[name], run_id))
                    checkpoint = _checkpoint(context, source, entry, suite, f"edp_check_{run_id}_{number:03d}")
                    result = checkpoint.run(run_id=RunIdentifier(run_name=run_id, run_time=started))
                except Exception as exc:  # one dataset GX cannot read must not cost the others their results
                    log.warning("%s: not validated", name, exc_info=True)
                    problem = f"GX could not validate {name}: {type(exc).__name__}: {exc}"
            outcomes.append(_readability(entry, suite.name, problem))
            if problem:
                continue
            for identifier, suite_result in result.run_results.items():
                results[name] = (identifier, suite_result)
                # Samples and holds read the work table.
                outcomes += _outcomes(settings, entry, suite, suite_result, whole=scopes[name].mode != "incremental")
        log.info("%s: validated (%s) in %.1f s", name, scopes[name].describe(), time.perf_counter() - began)
    return outcomes, results


def _unreadable_reason(settings: Settings, entry: Suite) -> str | None:
    schema, table = entry.schema_table
    with engine(settings).connect() as c:
        found = c.execute(sa.text("select to_regclass(:t)"), {"t": f'"{schema}"."{table}"'}).scalar()
    return None if found else f'relation "{schema}"."{table}" does not exist (dataset {entry.dataset} unreadable)'


def _checkpoint(
    context: AbstractDataContext, source: SQLDatasource, entry: Suite, suite: ExpectationSuite, name: str
) -> Any:
    import great_expectations as gx

    schema, table = entry.validated_table or entry.schema_table
    asset: TableAsset | QueryAsset
    if entry.query is None or entry.validated_table is not None:
        asset = source.add_table_asset(entry.dataset, table_name=table, schema_name=schema)
    else:
        asset = source.add_query_asset(entry.dataset, query=entry.query)
    batch = asset.add_batch_definition_whole_table("whole_table" if entry.query is None else "current_rows")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=entry.dataset, data=batch, suite=context.suites.add(suite))
    )
    result_format: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
    if entry.index_columns:
        result_format["unexpected_index_column_names"] = list(entry.index_columns)
    return context.checkpoints.add(
        gx.Checkpoint(name=name, validation_definitions=[definition], result_format=result_format)
    )


def _outcomes(
    settings: Settings,
    entry: Suite,
    suite: ExpectationSuite,
    suite_result: ExpectationSuiteValidationResult,
    *,
    whole: bool = True,
) -> list[Outcome]:
    # GX returns results in its own order; keep the suite's, which reads top-down.
    order = {(e.meta or {}).get("rule_id"): i for i, e in enumerate(suite.expectations)}
    found = [_outcome(settings, entry, suite_result.suite_name, r, whole=whole) for r in suite_result.results]
    return sorted(found, key=lambda o: order.get(o.rule_id, len(order)))


def _outcome(
    settings: Settings, entry: Suite, suite: str, r: ExpectationValidationResult, *, whole: bool = True
) -> Outcome:
    config = r.expectation_config
    if config is None:  # GX sets it on every result of a suite it validated
        raise ValueError(f"{entry.dataset}: GX returned a result without its expectation")
    meta = config.meta or {}
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    result = r.result or {}
    sample, batches = (None, []) if r.success else _sample(settings, entry, kwargs, result)
    level = level_of(config.type, meta)
    severity = meta.get("severity", Severity.BLOCKING)  # an untagged rule is treated as strictly as possible
    exception = _exception_message(r.exception_info)
    held: tuple[quality_holds.HeldRow, ...] | None = None
    released: tuple[str, ...] = ()
    if level == Level.ROW and severity == Severity.BLOCKING and exception is None:
        held = () if r.success else quality_holds.collect(settings, entry, kwargs, result)
        if held is not None:
            rule_id = meta.get("rule_id", config.type)
            released = quality_holds.to_release(settings, entry, rule_id, held, whole=whole)
    return Outcome(
        dataset=entry.dataset,
        suite=suite,
        expectation_type=config.type,
        rule_id=meta.get("rule_id", config.type),
        kwargs=kwargs,
        column=_column(kwargs),
        dimension=meta.get("dimension", Dimension.ACCURACY),
        severity=severity,
        success=bool(r.success),
        observed_value=result.get("observed_value"),
        element_count=result.get("element_count"),
        unexpected_count=_unexpected_count(config.type, result),
        unexpected_percent=result.get("unexpected_percent"),
        unexpected_sample=sample,
        exception=exception,
        failed_batches=tuple(batches),
        level=level,
        held=held,
        released=released,
    )


def _column(kwargs: dict[str, Any]) -> str | None:
    if "column" in kwargs:
        return kwargs["column"]
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


def _unexpected_count(expectation_type: str, result: dict[str, Any]) -> int | None:
    if "unexpected_count" in result:
        return result["unexpected_count"]
    # An UnexpectedRowsExpectation observes the number of rows its query returned.
    if expectation_type == "unexpected_rows_expectation":
        return result.get("observed_value")
    return None


def _sample(settings: Settings, entry: Suite, kwargs: dict[str, Any], result: dict[str, Any]) -> tuple[Any, list[str]]:
    """The failing sample (personal data masked) and the load batches it names."""
    if "unexpected_rows_query" in kwargs and not result.get("partial_unexpected_list"):
        try:
            return quality_samples.unexpected_rows(settings, entry, kwargs["unexpected_rows_query"])
        except sa.exc.DBAPIError as exc:  # the expectation itself failed on this query; GX reported why
            log.warning("%s: no sample: %s", entry.dataset, exc.orig)
            return None, []
    sample = quality_samples.from_result(entry, _column(kwargs), result)
    return sample, quality_samples.batches_of(sample)


def _exception_message(info: Any) -> str | None:
    """GX reports either one exception or one per failed metric; keep the messages."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    messages = [v.get("exception_message") for v in info.values() if isinstance(v, dict) and v.get("raised_exception")]
    return "; ".join(dict.fromkeys(m for m in messages if m)) or None


def _readability(entry: Suite, suite: str, problem: str | None) -> Outcome:
    """Accessibility (可访问性) as an evaluation of its own, passed or not, so its score means something."""
    schema, table = entry.schema_table
    return Outcome(
        dataset=entry.dataset,
        suite=suite,
        expectation_type=UNREADABLE,
        rule_id="table_is_readable",
        kwargs={"schema": schema, "table": table},
        column=None,
        dimension=Dimension.ACCESSIBILITY,
        severity=Severity.BLOCKING,
        success=problem is None,
        exception=problem[:2000] if problem else None,
    )


def _publish_docs(
    settings: Settings, context: AbstractDataContext, results: dict[str, tuple[Any, ExpectationSuiteValidationResult]]
) -> tuple[str | None, dict[Any, str]]:
    suites = [r.suite_name for _, r in results.values()]
    try:
        return quality_docs.build_and_publish(settings, context, suites, [ident for ident, _ in results.values()])
    except Exception:
        # The results are the record and are written regardless; Data Docs are only a view of them.
        log.warning("data docs were not built or published", exc_info=True)
        return None, {}


def _summarise(
    name: str, suite: str, outcomes: list[Outcome], docs_uri: str | None, scope: check_scope.Scope
) -> DatasetSummary:
    mine = [o for o in outcomes if o.dataset == name]
    return DatasetSummary(
        dataset=name,
        suite=suite,
        evaluated=len(mine),
        passed=sum(o.success for o in mine),
        failed_blocking=sum(not o.success and o.blocking for o in mine),
        failed_warning=sum(not o.success and not o.blocking for o in mine),
        docs_uri=docs_uri,
        scope=scope.describe(),
        held_rules=sum(o.is_held for o in mine),
        held_rows=sum(o.held_rows or 0 for o in mine),
    )
