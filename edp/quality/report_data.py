"""The figures of the auditor's report, read from ``audit``, ``ops`` and the marts.

Every figure is computed here from the stored history, never from a run in
memory, so a report can be re-made for any past period and checked against
the tables (tests/quality/test_report.py does).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from connectors.registry import SOURCES
from edp.quality.samples import MASK, as_text, batch_sql, mask_row
from expectations import SUITES
from expectations.dimensions import DIMENSION_LABELS, Dimension
from expectations.spec import LoadedBatch

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# The plan's target for the report-timeliness KPI (信息报送及时率 100%).
TIMELINESS_TARGET = 1.0
SAMPLE_ROWS = 10  # failing rows shown per blocking failure


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end + 1 day 00:00) in Asia/Shanghai: the report's days are 海城市's days."""
    return datetime.combine(start, time(), LOCAL_TZ), datetime.combine(end + timedelta(days=1), time(), LOCAL_TZ)


def group_of(dataset: str) -> tuple[str, str]:
    """(layer, group) of a dataset: raw datasets group by source, each mart is its own group."""
    entry = SUITES.get(dataset)
    if entry is not None:
        return entry.layer, entry.group
    schema, _, table = dataset.partition(".")
    return schema, table.split("__", 1)[0] if schema == "raw" else table


def score(passed: int, evaluated: int) -> float | None:
    return round(passed / evaluated, 4) if evaluated else None


# -- evaluations -------------------------------------------------------------------------------------------------

_EVALUATIONS = sa.text(
    """
    select r.dataset, r.dimension, (c.started_at at time zone 'Asia/Shanghai')::date as day,
           count(*) as evaluated, count(*) filter (where r.success) as passed,
           count(*) filter (where not r.success and r.severity = 'blocking') as failed_blocking,
           count(*) filter (where not r.success and r.severity = 'warning') as failed_warning
    from audit.expectation_results r join audit.check_runs c using (run_id)
    where c.started_at >= :start and c.started_at < :end
    group by 1, 2, 3
    """
)


def evaluations(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Evaluations per dataset, dimension and local day (one evaluation = one rule on one dataset in one run)."""
    return [dict(r._mapping) for r in conn.execute(_EVALUATIONS, {"start": start, "end": end})]


def runs(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.text(
            "select run_id, started_at, success, evaluated, passed, failed_blocking, failed_warning "
            "from audit.check_runs where started_at >= :start and started_at < :end order by started_at"
        ),
        {"start": start, "end": end},
    )
    return [dict(r._mapping) for r in rows]


def groups(
    rows: list[dict[str, Any]], status: dict[str, str], titles: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Per group: the score per GB/T 36344 dimension and overall, and its datasets (``titles``: of sources)."""
    acc: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        layer, group = group_of(row["dataset"])
        g = acc.setdefault((layer, group), {"layer": layer, "group": group, "datasets": {}, "dimensions": {}})
        d = g["datasets"].setdefault(
            row["dataset"], {"evaluated": 0, "passed": 0, "failed_blocking": 0, "failed_warning": 0}
        )
        dim = g["dimensions"].setdefault(row["dimension"], {"evaluated": 0, "passed": 0})
        for key in ("evaluated", "passed", "failed_blocking", "failed_warning"):
            d[key] += row[key]
        dim["evaluated"] += row["evaluated"]
        dim["passed"] += row["passed"]
    return [_group(g, status, titles or {}) for _, g in sorted(acc.items(), key=lambda kv: _order(*kv[0]))]


def _group(g: dict[str, Any], status: dict[str, str], titles: dict[str, str]) -> dict[str, Any]:
    datasets = [
        {"dataset": name, **d, "score": score(d["passed"], d["evaluated"]), "status_now": status.get(name, "unchecked")}
        for name, d in sorted(g["datasets"].items())
    ]
    evaluated = sum(d["evaluated"] for d in datasets)
    passed = sum(d["passed"] for d in datasets)
    dims = {}
    for dim in Dimension:
        found = g["dimensions"].get(dim.value, {"evaluated": 0, "passed": 0})
        dims[dim.value] = {"zh": DIMENSION_LABELS[dim], **found, "score": score(found["passed"], found["evaluated"])}
    entry = next((SUITES[d["dataset"]] for d in datasets if d["dataset"] in SUITES), None)
    return {
        "group": g["group"],
        "layer": g["layer"],
        "title": entry.title if entry is not None and g["layer"] == "marts" else titles.get(g["group"], g["group"]),
        "evaluated": evaluated,
        "passed": passed,
        "score": score(passed, evaluated),
        "failed_blocking": sum(d["failed_blocking"] for d in datasets),
        "failed_warning": sum(d["failed_warning"] for d in datasets),
        "dimension_scores": dims,
        "blocked_now": sorted(d["dataset"] for d in datasets if d["status_now"] == "blocked"),
        "datasets": datasets,
    }


_SOURCE_ORDER = SOURCES


def _order(layer: str, group: str) -> tuple[int, int, str]:
    rank = _SOURCE_ORDER.index(group) if group in _SOURCE_ORDER else len(_SOURCE_ORDER)
    return (0 if layer == "raw" else 1, rank, group)


def trend(rows: list[dict[str, Any]], start: date, end: date) -> list[dict[str, Any]]:
    """Per local day of the period: evaluations, score, failures, and the score of each group."""
    days: dict[date, dict[str, Any]] = {}
    for row in rows:
        day = days.setdefault(
            row["day"],
            {
                "evaluated": 0,
                "passed": 0,
                "failed_blocking": 0,
                "failed_warning": 0,
                "groups": defaultdict(lambda: [0, 0]),
            },
        )
        for key in ("evaluated", "passed", "failed_blocking", "failed_warning"):
            day[key] += row[key]
        counts = day["groups"][group_of(row["dataset"])[1]]
        counts[0] += row["passed"]
        counts[1] += row["evaluated"]
    out = []
    for offset in range((end - start).days + 1):
        day_date = start + timedelta(days=offset)
        d = days.get(day_date)
        if d is None:
            out.append(
                {
                    "date": day_date.isoformat(),
                    "evaluated": 0,
                    "passed": 0,
                    "score": None,
                    "failed_blocking": 0,
                    "failed_warning": 0,
                    "group_scores": {},
                }
            )
            continue
        out.append(
            {
                "date": day_date.isoformat(),
                **{k: d[k] for k in ("evaluated", "passed", "failed_blocking", "failed_warning")},
                "score": score(d["passed"], d["evaluated"]),
                "group_scores": {g: score(p, e) for g, (p, e) in sorted(d["groups"].items())},
            }
        )
    return out


# -- failures: blocking and warnings ----------------------------------------------------------------------------

_FAILURES = sa.text(
    """
    select r.dataset, r.expectation_id, r.expectation_type, r.dimension, r.dimension_zh, r.column_name,
           r.run_id, r.checked_at, r.unexpected_count, r.observed_value, r.unexpected_sample,
           coalesce(r.failed_batches, '{}') as failed_batches, r.exception, r.docs_uri
    from audit.expectation_results r join audit.check_runs c using (run_id)
    where c.started_at >= :start and c.started_at < :end and not r.success and r.severity = :severity
    order by r.dataset, r.expectation_id, r.checked_at, r.id
    """
)
# Where the report sits in the lake (quality/reports/) relative to the Data Docs (quality/docs/):
# the docs server serves both, and so does a file:// lake.
DOCS_MARKER = "/quality/docs/"
DOCS_FROM_REPORT = "../docs/"


def docs_link(docs_uri: str | None) -> str | None:
    """The Data Docs validation page of a result, relative to the report in the lake."""
    if not docs_uri or DOCS_MARKER not in docs_uri:
        return None
    return DOCS_FROM_REPORT + docs_uri.split(DOCS_MARKER, 1)[1]


def blocking_failures(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every failed blocking evaluation of the period, grouped by dataset and rule (latest sample shown, masked)."""
    return _failures(conn, start, end, "blocking", with_sample=True)


def warnings(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Every failed warning-level evaluation of the period, grouped by dataset and rule (recorded, not blocking)."""
    return _failures(conn, start, end, "warning", with_sample=False)


def _failures(
    conn: Connection, start: datetime, end: datetime, severity: str, with_sample: bool
) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(_FAILURES, {"start": start, "end": end, "severity": severity}):
        grouped[(r.dataset, r.expectation_id)].append(dict(r._mapping))
    out = []
    for (dataset, rule_id), occurrences in grouped.items():
        latest = occurrences[-1]
        batches = sorted({b for o in occurrences for b in o["failed_batches"]})
        entry = {
            "dataset": dataset,
            "group": group_of(dataset)[1],
            "rule_id": rule_id,
            "severity": severity,
            "expectation_type": latest["expectation_type"],
            "dimension": latest["dimension"],
            "dimension_zh": latest["dimension_zh"],
            "column": latest["column_name"],
            "occurrences": len(occurrences),
            "first_at": occurrences[0]["checked_at"],
            "last_at": latest["checked_at"],
            "batches": batches,
            "unexpected_count": latest["unexpected_count"],
            "observed_value": _masked_observed(dataset, latest["column_name"], latest["observed_value"]),
            "exception": latest["exception"],
            "docs_uri": latest["docs_uri"],
            "docs_link": docs_link(latest["docs_uri"]),
            "runs": [
                {
                    "run_id": o["run_id"],
                    "checked_at": o["checked_at"],
                    "unexpected_count": o["unexpected_count"],
                    "batches": list(o["failed_batches"]),
                    "docs_link": docs_link(o["docs_uri"]),
                }
                for o in occurrences
            ],
        }
        if with_sample:
            entry["sample"] = _masked_sample(dataset, latest["column_name"], latest["unexpected_sample"])
        out.append(entry)
    return out


def holds(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Records held back by row-level rules during the period (edp.quality.holds): rule, dataset, key, values."""
    if conn.execute(sa.text("select to_regclass('audit.row_holds')")).scalar() is None:
        return []
    rows = conn.execute(
        sa.text(
            "select rule_id, dataset, record_key, batch_id, observed, held_at, released_at from audit.row_holds "
            "where held_at < :end and (released_at is null or released_at >= :start) "
            "order by dataset, rule_id, held_at, key_text"
        ),
        {"start": start, "end": end},
    )
    return [
        {
            "rule": r.rule_id,
            "dataset": r.dataset,
            "group": group_of(r.dataset)[1],
            "key": r.record_key,
            "batch": r.batch_id,
            "observed": r.observed,
            "held_at": r.held_at,
            "released_at": r.released_at,
        }
        for r in rows
    ]


def _masked_observed(dataset: str, column: str | None, observed: Any) -> Any:
    """An observed value of a personal-information column shows as the mask (a value, or values, of it)."""
    pii = SUITES[dataset].pii_columns if dataset in SUITES else frozenset()
    return MASK if observed is not None and column in pii else observed


def _masked_sample(dataset: str, column: str | None, sample: Any) -> Any:
    """Samples are masked when stored; masked again here, in case a column was declared pii later."""
    if not isinstance(sample, list):
        return sample
    pii = SUITES[dataset].pii_columns if dataset in SUITES else frozenset()
    rows = sample[:SAMPLE_ROWS]
    if rows and isinstance(rows[0], dict):
        return [mask_row(r, pii) for r in rows]
    return [MASK if column in pii else v for v in rows]


# -- quarantine, reconciliation, report timeliness ---------------------------------------------------------------


def quarantine(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    if conn.execute(sa.text("select to_regclass('ops.quarantine')")).scalar() is None:
        return {"total": 0, "open": 0, "by_reason": []}
    rows = [
        dict(r._mapping)
        for r in conn.execute(
            sa.text(
                """
                select source, dataset, coalesce(field, '-') as field, reason, count(*) as records,
                       count(*) filter (where replayed_at is null) as open,
                       count(*) filter (where replayed_at is not null) as replayed
                from ops.quarantine where quarantined_at >= :start and quarantined_at < :end
                group by 1, 2, 3, 4 order by 1, 2, records desc, 4
                """
            ),
            {"start": start, "end": end},
        )
    ]
    return {"total": sum(r["records"] for r in rows), "open": sum(r["open"] for r in rows), "by_reason": rows}


def reconciliation(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """Batches of the period per raw dataset: loaded, reconciled, pending; every difference with its batch."""
    if conn.execute(sa.text("select to_regclass('ops.batches')")).scalar() is None:
        return {"batches": 0, "loaded": 0, "reconciled": 0, "pending": 0, "differences": [], "by_dataset": []}
    counts = {
        (r.source, r.dataset): r
        for r in conn.execute(
            sa.text(
                "select source, dataset, count(*) as batches, count(*) filter (where status = 'loaded') as loaded, "
                "count(*) filter (where status <> 'loaded') as pending from ops.batches "
                "where extracted_at >= :start and extracted_at < :end group by 1, 2"
            ),
            {"start": start, "end": end},
        )
    }
    period: dict[tuple[str, str], list[LoadedBatch]] = {}
    for r in conn.execute(
        sa.text(
            "select source, dataset, batch_id, extracted_at from ops.batches "
            "where extracted_at >= :start and extracted_at < :end and status = 'loaded'"
        ),
        {"start": start, "end": end},
    ):
        period.setdefault((r.source, r.dataset), []).append(LoadedBatch(r.batch_id, r.extracted_at))
    in_period = {b.batch_id for batches in period.values() for b in batches}
    differences, by_dataset = [], []
    for entry in SUITES.values():
        if entry.reconciliation_query is None:
            continue
        source, dataset = entry.schema_table[1].split("__", 1)
        # An incremental dataset's reconciliation reads the period's batches only, not a year of raw.
        narrowed = entry.narrow(period.get((source, dataset), [])) if entry.narrow else entry
        found = _differences(conn, narrowed, in_period)
        differences += found
        c = counts.get((source, dataset))
        loaded = c.loaded if c else 0
        by_dataset.append(
            {
                "dataset": entry.dataset,
                "group": source,
                "batches": c.batches if c else 0,
                "loaded": loaded,
                "pending": c.pending if c else 0,
                "differing": len(found),
                "reconciled": loaded - len([d for d in found if d["source_rows"] is not None]),
                "status": "differences" if found else "reconciled",
            }
        )
    return {
        "batches": sum(d["batches"] for d in by_dataset),
        "loaded": sum(d["loaded"] for d in by_dataset),
        "reconciled": sum(d["reconciled"] for d in by_dataset),
        "pending": sum(d["pending"] for d in by_dataset),
        "differences": differences,
        "by_dataset": by_dataset,
    }


def _differences(conn: Connection, entry: Any, in_period: set[str]) -> list[dict[str, Any]]:
    schema, table = entry.schema_table
    if conn.execute(sa.text("select to_regclass(:t)"), {"t": f'"{schema}"."{table}"'}).scalar() is None:
        return []
    query = entry.reconciliation_query
    sql = query.format(batch=batch_sql(entry, query))
    rows = [dict(r) for r in conn.execute(as_text(sql)).mappings()]
    # Batches of the period, and rows of no known batch (those have no period: always shown).
    return [{"dataset": entry.dataset, **r} for r in rows if r["_batch_id"] in in_period or r["source_rows"] is None]


def report_timeliness(conn: Connection, start: date, end: date) -> dict[str, Any]:
    """Data timeliness (数据时效): share of hazard events whose source record came in time, per source dataset.

    Not the plan's KPI 乡镇灾害事故信息上报及时率: that is :func:`town_report_timeliness`.
    """
    base: dict[str, Any] = {"target": TIMELINESS_TARGET, "source": "marts.fct_report_timeliness"}
    if conn.execute(sa.text("select to_regclass('marts.fct_report_timeliness')")).scalar() is None:
        return {**base, "available": False, "note": "不可用 not available: marts.fct_report_timeliness does not exist"}
    rows = [
        dict(r._mapping)
        for r in conn.execute(
            sa.text(
                """
                select source, source_dataset, bool_or(is_measured) as is_measured,
                       max(target_minutes) as target_minutes,
                       sum(event_count) as events, sum(reported_count) as reported, sum(timely_count) as timely
                from marts.fct_report_timeliness where event_date between :start and :end
                group by 1, 2 order by 1, 2
                """
            ),
            {"start": start, "end": end},
        )
    ]
    measured = [r for r in rows if r["is_measured"]]
    events = sum(int(r["events"]) for r in measured)
    timely = sum(int(r["timely"]) for r in measured)
    share = score(timely, events)
    for r in rows:
        r["share"] = score(int(r["timely"]), int(r["events"])) if r["is_measured"] else None
    return {
        **base,
        "available": True,
        "target_minutes": max((r["target_minutes"] for r in rows if r["target_minutes"]), default=None),
        "events": events,
        "timely": timely,
        "share": share,
        "meets_target": share is not None and share >= TIMELINESS_TARGET,
        "unmeasured": [f"{r['source']}.{r['source_dataset']}" for r in rows if not r["is_measured"]],
        "by_dataset": rows,
    }


def town_report_timeliness(conn: Connection, start: date, end: date) -> dict[str, Any]:
    """The plan's KPI 乡镇灾害事故信息上报及时率: the towns' reports (初报/续报/核报) on time / due, 100% target.

    From marts.fct_town_report_timeliness, the months that overlap the period; a missing report past its
    due time counts as due and late.
    """
    base: dict[str, Any] = {"target": TIMELINESS_TARGET, "source": "marts.fct_town_report_timeliness"}
    if conn.execute(sa.text("select to_regclass('marts.fct_town_report_timeliness')")).scalar() is None:
        return {
            **base,
            "available": False,
            "note": "不可用 not available: marts.fct_town_report_timeliness does not exist",
        }
    rows = [
        dict(r._mapping)
        for r in conn.execute(
            sa.text(
                """
                select division_code, max(division_name) as division_name, sum(due_count) as due,
                       sum(on_time_count) as on_time, sum(late_count) as late, sum(missing_count) as missing
                from marts.fct_town_report_timeliness
                where due_month between date_trunc('month', cast(:start as date)) and :end
                group by 1 order by 1
                """
            ),
            {"start": start, "end": end},
        )
    ]
    due = sum(int(r["due"]) for r in rows)
    on_time = sum(int(r["on_time"]) for r in rows)
    share = score(on_time, due)
    for r in rows:
        r["share"] = score(int(r["on_time"]), int(r["due"]))
    return {
        **base,
        "available": True,
        "due": due,
        "on_time": on_time,
        "share": share,
        "meets_target": share is not None and share >= TIMELINESS_TARGET,
        "by_town": rows,
    }
