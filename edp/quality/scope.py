"""What one check run validates of each dataset: every current row, or only what changed.

A raw incremental dataset grows by a batch every few minutes, and a year of
rainfall is about 12 million rows: validating all its current rows on every
run costs what the whole history costs. So a run validates, per raw
incremental dataset, only the current rows of

- the loaded batches no earlier run validated (``audit.checked_batches``), and
- the batches where the dataset's previous run found failing rows (carried
  until a run finds their current rows clean, e.g. once the department's
  correction superseded them).

That gives the verdicts and unexpected counts a full check would give: the
row rules read one row (and its batch), and every row outside the scope was
found clean by an earlier run.

A failure that stands (a department that never fixes a code format, in every
batch of a year) would make every run re-read what it failed in, which is
the whole history. But a batch's current rows change only when a newer
version of one of its keys arrives, in a new batch, or when the batch is
reloaded. So when neither happened to the batches a failure is in, the run
validates only the new batches and adds the last run's failures of each rule
to its own (``Scope.carried_from``): the same counts, without the re-read.

None of this sees what changes under old rows (a rule's reference data, a
hand edit of raw or ``ops.batches``), so every such dataset is checked in full
on its first check, when the last full check is older than
``EDP_CHECK_FULL_EVERY_HOURS`` (default 24), when a row changed under a
failure that could not be traced to its batches, and on ``edp check --full``. Marts and snapshot
datasets are always validated whole (small, and rebuilt in place).

Every run records each dataset's scope (``audit.check_scopes``), so an
auditor can see what a verdict covered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from edp.quality.samples import MAX_BATCHES, SAMPLE_SIZE
from edp.settings import Settings
from edp.storage.warehouse import engine
from expectations.spec import LoadedBatch, Suite

if TYPE_CHECKING:
    from edp.quality.runner import Outcome

# Rules about the dataset as a whole, judged afresh by every run: a failure names no rows to re-check.
DATASET_RULES = frozenset({"columns_exist", "volume_in_line", "fresh_per_schedule", "not_empty", "table_is_readable"})
# Beyond this many batches (a long outage's backlog, a backfill) one full pass is cheaper than a list.
MAX_SCOPE_BATCHES = 5000
# Where a check keeps the rows in scope of a raw incremental dataset, for the length of its validation.
WORK_SCHEMA = "audit_work"
WORK_PREFIX = "check_"
# A table left there by a run that died is dropped by a later run once this old.
STALE_WORK = timedelta(days=1)

Mode = Literal["full", "incremental", "whole"]


@dataclass(frozen=True)
class Scope:
    """One dataset's scope in one run.

    ``whole``: a mart or snapshot dataset, always validated whole. ``full``:
    every current row; ``batches`` are the loaded batches it covers.
    ``incremental``: the current rows of ``batches`` only.
    """

    mode: Mode
    reason: str
    batches: tuple[LoadedBatch, ...] = ()
    carried: frozenset[str] = field(default_factory=frozenset)
    # The run whose failures this run adds to its own, unread: no row of their batches changed since.
    carried_from: str | None = None

    @property
    def tracked(self) -> bool:
        """Raw incremental: batches covered and failures carried are recorded."""
        return self.mode != "whole"

    def apply(self, entry: Suite) -> Suite:
        return entry.narrow(self.batches) if self.mode == "incremental" and entry.narrow else entry

    def describe(self) -> str:
        if self.mode == "whole":
            return "whole table"
        if self.mode == "full":
            return f"full: every current row ({self.reason})"
        if self.carried_from:
            return (
                f"incremental: current rows of {len(self.batches)} new batches; earlier failures carried "
                f"from run {self.carried_from} (no row of their batches changed since)"
            )
        again = f", {len(self.carried)} re-checked after failures" if self.carried else ""
        return f"incremental: current rows of {len(self.batches)} new batches{again}"


@dataclass(frozen=True)
class _Previous:
    run_id: str
    mode: str
    checked_at: datetime
    batch_ids: tuple[str, ...]
    carry: tuple[str, ...]
    carry_all: bool
    carried_from: str | None

    @property
    def untraced_anywhere(self) -> bool:
        """Its failures may lie in any batch: they were not traced, and it covered (or carried) every batch."""
        return self.carry_all and (self.mode == "full" or self.carried_from is not None)


def plan(
    settings: Settings, entries: Mapping[str, Suite], *, full: bool, now: datetime, full_every: timedelta
) -> dict[str, Scope]:
    """Each dataset's scope for a run starting ``now`` (``full``: every tracked dataset in full)."""
    scopes: dict[str, Scope] = {}
    with engine(settings).connect() as c:
        for name, entry in entries.items():
            if entry.narrow is None or entry.source is None:
                scopes[name] = Scope("whole", "whole table")
                continue
            scopes[name] = _plan_one(c, name, entry, full=full, now=now, full_every=full_every)
    return scopes


def _plan_one(c: sa.Connection, name: str, entry: Suite, *, full: bool, now: datetime, full_every: timedelta) -> Scope:
    _, table = entry.schema_table
    source = entry.source or ""
    dataset = table.removeprefix(f"{source}__")
    loaded = c.execute(
        sa.text(
            "select b.batch_id, b.extracted_at, b.loaded_at, c.batch_id is not null as checked, "
            "c.batch_id is not null or exists (select 1 from audit.checked_batches x "
            "where x.dataset = :name and x.batch_id = b.batch_id) as seen from ops.batches b "
            "left join audit.checked_batches c on c.dataset = :name and c.batch_id = b.batch_id "
            "and c.loaded_at is not distinct from b.loaded_at "
            "where b.source = :source and b.dataset = :dataset and b.status = 'loaded' "
            "order by b.extracted_at, b.batch_id"
        ),
        {"name": name, "source": source, "dataset": dataset},
    ).all()
    every = tuple(LoadedBatch(b.batch_id, b.extracted_at, b.loaded_at) for b in loaded)
    last_full = c.execute(
        sa.text("select max(checked_at) from audit.check_scopes where dataset = :name and mode = 'full'"),
        {"name": name},
    ).scalar()
    previous = _previous(c, name)

    def whole(reason: str) -> Scope:
        return Scope("full", reason, every)

    if full:
        return whole("asked for")
    if not _has_row_key(c, table):
        return whole("raw has no _row_key yet (the next load adds it)")
    if last_full is None or previous is None:
        return whole("first check")
    if now - last_full >= full_every:
        return whole(f"last full check {_hours(now - last_full)} ago")
    by_id = {b.batch_id: b for b in every}
    carried = set(previous.carry)
    if previous.carry_all and not previous.untraced_anywhere:
        carried |= set(previous.batch_ids)
    if not carried <= by_id.keys():
        return whole("a failure names a batch the loader did not load")
    # (every is loaded, in the same order: one pass, not a set built again for each batch of a year)
    new = tuple(b for b, row in zip(every, loaded, strict=True) if not row.checked)
    if (carried or previous.untraced_anywhere) and _unchanged_since(c, table, loaded, new, carried, previous):
        return Scope("incremental", "new batches", new, frozenset(carried), carried_from=previous.run_id)
    if previous.untraced_anywhere:
        return whole("the last run's failures could not all be traced to their batches")
    chosen = {b.batch_id for b in new} | carried
    if len(chosen) > MAX_SCOPE_BATCHES:
        return whole(f"{len(chosen):,} batches to check")
    batches = tuple(b for b in every if b.batch_id in chosen)
    return Scope("incremental", "new batches", batches, frozenset(carried))


def _unchanged_since(
    c: sa.Connection,
    table: str,
    loaded: Iterable[Any],
    new: tuple[LoadedBatch, ...],
    carried: set[str],
    previous: _Previous,
) -> bool:
    """No row of the batches the last run's failures are in changed since: none was reloaded, and no
    row of the new batches is a newer version of one of theirs (when untraced: of any older row).

    Index probes: raw's BRIN finds the new batches' rows, its ``(_row_key, _extracted_at)`` index
    their older versions. A hash collision can only make this answer no, and the run re-read.
    """
    if any(b.seen and not b.checked and (previous.untraced_anywhere or b.batch_id in carried) for b in loaded):
        return False
    if not new:
        return True
    ids = [b.batch_id for b in new]
    older_in = "" if previous.untraced_anywhere else "and o._batch_id = any(cast(:carried as text[])) "
    found = c.execute(
        sa.text(
            f'select exists (select 1 from raw."{table}" n where n._batch_id = any(cast(:ids as text[])) '
            "and n._extracted_at >= :since and exists (select 1 from "
            f'raw."{table}" o where o._row_key = n._row_key and o._extracted_at < n._extracted_at {older_in}))'
        ),
        {"ids": ids, "since": min(b.extracted_at for b in new), "carried": sorted(carried)},
    ).scalar()
    return not found


def _has_row_key(c: sa.Connection, table: str) -> bool:
    found = c.execute(
        sa.text(
            "select 1 from information_schema.columns "
            "where table_schema = 'raw' and table_name = :t and column_name = '_row_key'"
        ),
        {"t": table},
    ).first()
    return found is not None


def _previous(c: sa.Connection, name: str) -> _Previous | None:
    row = c.execute(
        sa.text(
            "select run_id, mode, checked_at, batch_ids, carry, carry_all, carried_from from audit.check_scopes "
            "where dataset = :name order by checked_at desc, run_id desc limit 1"
        ),
        {"name": name},
    ).first()
    if row is None:
        return None
    return _Previous(
        row.run_id,
        row.mode,
        row.checked_at,
        tuple(row.batch_ids or ()),
        tuple(row.carry or ()),
        row.carry_all,
        row.carried_from,
    )


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.0f} h"


def carry(outcomes: Iterable[Outcome]) -> tuple[frozenset[str], bool]:
    """The batches the next run must re-check, and whether the failures could not all be traced to batches."""
    found: set[str] = set()
    untraced = False
    for o in outcomes:
        if o.success or o.rule_id in DATASET_RULES:
            continue
        listed = _every_failing_batch(o)
        if listed is None:
            untraced = True
        else:
            found |= listed
    return frozenset(found), untraced


def add_carried(settings: Settings, outcomes: list[Outcome], scopes: Mapping[str, Scope]) -> list[Outcome]:
    """Each outcome of a scope with ``carried_from``, with that run's failures of the same rule added."""
    carried_runs = {name: s.carried_from for name, s in scopes.items() if s.carried_from}
    if not carried_runs:
        return outcomes
    earlier: dict[tuple[str, str], Any] = {}
    with engine(settings).connect() as c:
        for name, run_id in carried_runs.items():
            rows = c.execute(
                sa.text(
                    "select expectation_id, element_count, unexpected_count, unexpected_sample, failed_batches "
                    "from audit.expectation_results where run_id = :run_id and dataset = :name and not success "
                    "and exception is null"
                ),
                {"run_id": run_id, "name": name},
            ).all()
            earlier.update({(name, r.expectation_id): r for r in rows if r.expectation_id not in DATASET_RULES})
    return [_with_earlier(o, earlier[k]) if (k := (o.dataset, o.rule_id)) in earlier else o for o in outcomes]


def _with_earlier(o: Outcome, earlier: Any) -> Outcome:
    """``o`` over the new batches plus an earlier run's failures of the same rule, in other batches."""
    if o.exception or earlier.unexpected_count is None:
        return o
    unexpected = (o.unexpected_count or 0) + earlier.unexpected_count
    elements = None
    if o.element_count is not None or earlier.element_count is not None:
        elements = (o.element_count or 0) + (earlier.element_count or 0)
    sample = o.unexpected_sample
    if isinstance(earlier.unexpected_sample, list):
        sample = [*(sample if isinstance(sample, list) else []), *earlier.unexpected_sample][:SAMPLE_SIZE]
    return replace(
        o,
        success=False,
        unexpected_count=unexpected,
        element_count=elements,
        unexpected_percent=100.0 * unexpected / elements if elements else o.unexpected_percent,
        # An UnexpectedRowsExpectation observes its row count.
        observed_value=unexpected if o.expectation_type == "unexpected_rows_expectation" else o.observed_value,
        unexpected_sample=sample,
        failed_batches=tuple(sorted({*o.failed_batches, *(earlier.failed_batches or ())})),
    )


def _every_failing_batch(o: Outcome) -> set[str] | None:
    """The batches of all of a failure's rows, when its result names them all."""
    if o.exception:
        return None
    batches = set(o.failed_batches)
    if o.expectation_type == "unexpected_rows_expectation":
        # edp.quality.samples lists the distinct batches of all the query's rows, up to MAX_BATCHES.
        return batches if batches and len(batches) < MAX_BATCHES else None
    sample = o.unexpected_sample
    complete = (
        isinstance(sample, list)
        and o.unexpected_count is not None
        and len(sample) >= o.unexpected_count
        and all(isinstance(r, dict) and r.get("_batch_id") for r in sample)
    )
    return batches if complete else None


def record(c: sa.Connection, run_id: str, checked_at: datetime, scopes: Mapping[str, Scope], outcomes: Any) -> None:
    """Write each dataset's scope, and the batches it covered (inside the run's audit transaction)."""
    by_dataset: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_dataset.setdefault(o.dataset, []).append(o)
    for name, scope in scopes.items():
        carried, untraced = carry(by_dataset.get(name, ())) if scope.tracked else (frozenset(), False)
        ids = [b.batch_id for b in scope.batches]
        c.execute(
            sa.text(
                "insert into audit.check_scopes (run_id, dataset, mode, reason, batches, batch_ids, carry, "
                "carry_all, carried_from, checked_at) values (:run_id, :dataset, :mode, :reason, :batches, "
                ":batch_ids, :carry, :carry_all, :carried_from, :checked_at)"
            ),
            {
                "run_id": run_id,
                "dataset": name,
                "mode": scope.mode,
                "reason": scope.reason,
                "batches": len(ids),
                "batch_ids": ids if scope.mode == "incremental" else None,
                "carry": sorted(carried),
                "carry_all": untraced,
                "carried_from": scope.carried_from,
                "checked_at": checked_at,
            },
        )
        if scope.tracked and ids:
            c.execute(
                sa.text(
                    "insert into audit.checked_batches (dataset, batch_id, loaded_at, run_id) "
                    "select :dataset, b, l, :run_id from unnest(cast(:ids as text[]), cast(:loaded as timestamptz[])) "
                    "as t(b, l) on conflict (dataset, batch_id) do update "
                    "set loaded_at = excluded.loaded_at, run_id = excluded.run_id"
                ),
                {"dataset": name, "ids": ids, "loaded": [b.loaded_at for b in scope.batches], "run_id": run_id},
            )


@contextmanager
def current_rows_table(settings: Settings, entry: Suite, scope: Scope, run_id: str) -> Iterator[Suite]:
    """A raw incremental dataset's rows in scope are read from a table built once per check.

    GX runs a query per metric (two dozen per suite). In a full check each
    would sort a year of raw through the current-rows window again; in an
    incremental one each would probe raw's key index for every row of the
    new batches again (100k new rows in 10M: 83 s against 1.5 s with nothing
    new). The unlogged table lives for this dataset's validation only
    (samples included) and is dropped after it, also when the validation
    fails.
    """
    if scope.mode == "whole" or entry.query is None:
        yield entry
        return
    _, table = entry.schema_table
    # Lower case and a letter first: GX names the table unquoted (drop_stale_work reads the run id back).
    work = f"{WORK_PREFIX}{run_id.replace('-', '_')}_{table}".lower()
    name = f'{WORK_SCHEMA}."{work}"'
    with engine(settings).begin() as c:
        c.execute(sa.text(f"create unlogged table {name} as {entry.query}"))
        c.execute(sa.text(f"analyze {name}"))
    try:
        yield replace(entry, query=f"select * from {name}", validated_table=(WORK_SCHEMA, work))
    finally:
        with engine(settings).begin() as c:
            c.execute(sa.text(f"drop table if exists {name}"))


def drop_stale_work(settings: Settings, now: datetime) -> list[str]:
    """Drop the work tables of runs that died more than STALE_WORK ago (their names start with the run id)."""
    dropped = []
    with engine(settings).begin() as c:
        names: list[str] = list(
            c.execute(sa.text("select tablename from pg_tables where schemaname = :s"), {"s": WORK_SCHEMA}).scalars()
        )
        for name in names:
            try:
                stamp = name.removeprefix(WORK_PREFIX)[:16]  # (tables of earlier versions have no prefix)
                started = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            except ValueError:
                continue  # not ours
            if now - started > STALE_WORK:
                c.execute(sa.text(f'drop table if exists {WORK_SCHEMA}."{name}"'))
                dropped.append(name)
    return dropped
