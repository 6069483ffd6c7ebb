"""Row holds (记录扣留): the records a failing row-level blocking rule holds back from the exchange.

A blocking rule about single records (``expectations.levels``: a credit code,
a coordinate, a time) no longer blocks its whole dataset when it fails: the
records that fail it are *held* and the rest is published. Each held record
is kept in ``audit.row_holds`` with the rule, the dataset's key of the record,
its load batch (raw) and the values the rule saw (personal data masked), from
the run that first held it (``held_at``) until a run finds it passing or gone
(``released_at``). The sync withholds the mart records those keys map to
(``edp.exchange.sync``); ``edp sync status --held`` and the auditor's report
list them.

A failure can only be held when every failing record is named by the
dataset's key: an unexpected-rows rule's query selects the key columns (it is
re-run here in full, up to :data:`MAX_HELD_ROWS`); a column-value expectation's
result names the rows by key (GX's ``unexpected_index_column_names``, only up
to ``partial_unexpected_count`` rows at SUMMARY). Otherwise the rule blocks
the dataset, as a dataset-level rule does.

Releasing: a whole or full run releases every open hold of the rule that it
did not hold again (the record passed or is gone); an incremental run (new
batches only) releases those whose record it validated and found passing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from edp.quality import samples as quality_samples
from edp.settings import Settings
from edp.storage.warehouse import engine
from expectations.spec import Suite

if TYPE_CHECKING:
    from edp.quality.runner import CheckRun, Outcome
    from edp.quality.scope import Scope

log = logging.getLogger(__name__)

# Beyond this many failing records a "row" rule describes the dataset: it blocks instead of holding.
MAX_HELD_ROWS = 10_000
# An incremental run releases holds by reading the keys it validated, up to this many.
MAX_VALIDATED_KEYS = 2_000_000
BATCH = quality_samples.BATCH_COLUMN


@dataclass(frozen=True)
class HeldRow:
    """One held record: the dataset's key (values as text), its load batch, what the rule saw."""

    key: dict[str, str | None]
    batch_id: str | None = None
    observed: dict[str, Any] | None = None

    @property
    def key_text(self) -> str:
        return key_text(self.key)


def key_text(key: dict[str, Any]) -> str:
    """The key as stable text (the unique index's column): ``{"credit_code": "9121…", …}``."""
    return json.dumps(key, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def key_columns(entry: Suite) -> tuple[str, ...]:
    """The columns naming a record of the dataset: its key, without the load batch."""
    return tuple(c for c in entry.index_columns if c != BATCH)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def collect(
    settings: Settings, entry: Suite, kwargs: dict[str, Any], result: dict[str, Any]
) -> tuple[HeldRow, ...] | None:
    """Every failing record of a row-level rule, by key; None when they cannot all be named."""
    keys = key_columns(entry)
    if not keys:
        return None
    if "unexpected_rows_query" in kwargs:
        return _from_query(settings, entry, keys, kwargs["unexpected_rows_query"])
    listed = result.get("partial_unexpected_index_list")
    count = result.get("unexpected_count")
    if not isinstance(listed, list) or count is None or len(listed) < count:
        return None  # GX named only a sample of them
    rows = []
    for r in listed:
        if not isinstance(r, dict) or any(k not in r for k in keys):
            return None
        rows.append(_held(entry, keys, r))
    return tuple(rows)


def _from_query(settings: Settings, entry: Suite, keys: Sequence[str], query: str) -> tuple[HeldRow, ...] | None:
    sql = query.format(batch=quality_samples.batch_sql(entry, query))
    text = f"select * from ({sql}) as unexpected limit {MAX_HELD_ROWS + 1}"
    try:
        with engine(settings).connect() as c:
            found = [dict(r) for r in c.execute(quality_samples.as_text(text)).mappings()]
    except sa.exc.DBAPIError as exc:
        log.warning("%s: failing rows not read: %s", entry.dataset, exc.orig)
        return None
    if len(found) > MAX_HELD_ROWS or (found and any(k not in found[0] for k in keys)):
        return None
    return tuple(_held(entry, keys, r) for r in found)


def _held(entry: Suite, keys: Sequence[str], row: dict[str, Any]) -> HeldRow:
    masked = quality_samples.mask_row(row, entry.pii_columns)
    observed = {k: _as_text(v) for k, v in masked.items() if k not in keys and k != BATCH}
    return HeldRow(
        key={k: _as_text(row[k]) for k in keys},
        batch_id=_as_text(row.get(BATCH)),
        observed=observed or None,
    )


def to_release(
    settings: Settings, entry: Suite, rule_id: str, held: Sequence[HeldRow], *, whole: bool
) -> tuple[str, ...]:
    """Open holds of this rule not held again: all of them after a whole/full run, else those validated now."""
    keys = key_columns(entry)
    again = {h.key_text for h in held}
    with engine(settings).connect() as c:
        if c.execute(sa.text("select to_regclass('audit.row_holds')")).scalar() is None:
            return ()
        open_keys: list[str] = list(
            c.execute(
                sa.text(
                    "select key_text from audit.row_holds where dataset = :d and rule_id = :r and released_at is null"
                ),
                {"d": entry.dataset, "r": rule_id},
            ).scalars()
        )
        candidates = [kt for kt in open_keys if kt not in again]
        if whole or not candidates or not keys:
            return tuple(candidates)
        # Incremental: only records this run validated (and found passing) are released. Keys are
        # compared as this module renders them (_as_text), whatever the columns' types.
        relation = quality_samples.batch_sql(entry, "select")
        columns = ", ".join(_q(k) for k in keys)
        rows = c.execute(sa.text(f"select {columns} from {relation} limit {MAX_VALIDATED_KEYS + 1}")).all()
    if len(rows) > MAX_VALIDATED_KEYS:
        return ()  # left to the next full run
    validated = {key_text({k: _as_text(v) for k, v in zip(keys, row, strict=True)}) for row in rows}
    return tuple(kt for kt in candidates if kt in validated)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def carry(settings: Settings, outcomes: list[Outcome], scopes: dict[str, Scope]) -> list[Outcome]:
    """A failure carried from an earlier run stays held only if that run held it."""
    carried = {name: s.carried_from for name, s in scopes.items() if s.carried_from}
    if not carried:
        return outcomes
    with engine(settings).connect() as c:
        earlier = {
            (r.dataset, r.expectation_id): r.held_rows
            for name, run_id in carried.items()
            for r in c.execute(
                sa.text(
                    "select dataset, expectation_id, held_rows from audit.expectation_results "
                    "where run_id = :run and dataset = :d and not success"
                ),
                {"run": run_id, "d": name},
            )
        }
    out = []
    for o in outcomes:
        key = (o.dataset, o.rule_id)
        if key in earlier and not o.success and o.held is not None and o.blocking:
            o = replace(o, held=o.held if earlier[key] is not None else None, held_earlier=earlier[key] or 0)
        out.append(o)
    return out


def record(c: sa.Connection, run: CheckRun) -> int:
    """Open the run's new holds and release those it found passing (in the run's audit transaction)."""
    opened = 0
    for o in run.outcomes:
        if o.released:
            c.execute(
                sa.text(
                    "update audit.row_holds set released_at = :at, released_by = :run where dataset = :d "
                    "and rule_id = :r and released_at is null and key_text = any(:keys)"
                ),
                {"at": run.started_at, "run": run.run_id, "d": o.dataset, "r": o.rule_id, "keys": list(o.released)},
            )
        if o.success or not o.held:
            continue
        rows = [
            {
                "run": run.run_id,
                "d": o.dataset,
                "r": o.rule_id,
                "k": json.dumps(h.key, ensure_ascii=False),
                "kt": h.key_text,
                "b": h.batch_id,
                "obs": None if h.observed is None else json.dumps(h.observed, ensure_ascii=False),
                "at": run.started_at,
            }
            for h in o.held
        ]
        c.execute(
            sa.text(
                "insert into audit.row_holds (run_id, last_run_id, dataset, rule_id, record_key, key_text, "
                "batch_id, observed, held_at) values (:run, :run, :d, :r, cast(:k as jsonb), :kt, :b, "
                "cast(:obs as jsonb), :at) on conflict (dataset, rule_id, key_text) where released_at is null "
                "do update set last_run_id = excluded.last_run_id, observed = excluded.observed, "
                "batch_id = excluded.batch_id"
            ),
            rows,
        )
        opened += len(rows)
    return opened


def open_holds(conn: sa.Connection, datasets: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The records held now (oldest first), optionally of some datasets only."""
    if conn.execute(sa.text("select to_regclass('audit.row_holds')")).scalar() is None:
        return []
    where = "" if datasets is None else "and dataset = any(:ds)"
    rows = conn.execute(
        sa.text(
            "select dataset, rule_id, record_key, batch_id, observed, held_at, run_id, last_run_id "
            f"from audit.row_holds where released_at is null {where} order by held_at, dataset, rule_id, key_text"
        ),
        {"ds": list(datasets or [])},
    )
    return [dict(r._mapping) for r in rows]


def held_records(settings: Settings, datasets: Iterable[str] | None = None) -> list[dict[str, Any]]:
    with engine(settings).connect() as c:
        return open_holds(c, datasets)
