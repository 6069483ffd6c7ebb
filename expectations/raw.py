"""What every raw dataset is checked for, built from its connector's declaration.

Raw is append-only: each load batch adds rows, and a corrected record arrives
again in a later batch. The suites validate **the current rows**
(:func:`current_rows_query`): per key, the rows of the latest batch that
carried it (snapshot datasets: the latest batch). So a batch with a bad value
blocks the dataset, and the department's correction in a later batch lifts
the block, while history stays untouched. Rules about batches (reconciliation,
volume, freshness) read every batch from ``ops.batches``.

Every raw suite has, in this order: the declared columns exist; key columns
are not null; the key is unique per batch; the source's own rules (the
source's module); reconciliation of every batch; volume against the recent
batches; freshness against the source's schedule; not empty.

Where the other rules live: required fields and types are enforced by the
connector at typing (a record that fails is quarantined with its reason, see
``ops.quarantine``), so they are not repeated here; keys are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from connectors.schema import LINEAGE_COLUMNS, Dataset
from expectations.dimensions import Dimension, rule
from expectations.rules import BLOCKING, WARNING, q, unexpected_rows
from expectations.spec import LoadedBatch, Suite

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.expectations import Expectation

# The loader's lineage columns, except the content hash (an implementation detail of the loader).
LINEAGE = tuple(name for name, _ in LINEAGE_COLUMNS if name != "_row_key")
CURRENT_AT = "_edp_current_at"  # the window column current_rows_query adds
# Freshness: one scheduled run may be missed or still running; this much more is allowed for the run itself.
FRESHNESS_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class Volume:
    """Latest batch's landed rows against the median of the previous ``history`` batches (warning).

    The band is ``[lower × median - slack, upper × median + slack]``; ``slack``
    keeps sparse incremental feeds (0 to a few changes a run) from warning on
    every run. Snapshot datasets compare non-empty batches only: an unchanged
    snapshot is skipped by its connector and lands as an empty batch.
    """

    history: int = 7
    min_history: int = 3
    lower: float = 0.5
    upper: float = 2.0
    slack: int = 10


RuleSet = Callable[[Dataset], "list[Expectation]"]


def no_rules(ds: Dataset) -> list[Expectation]:
    return []


@dataclass(frozen=True)
class RawSpec:
    """What a source's module says about one of its datasets."""

    rules: RuleSet = no_rules
    volume: Volume = field(default_factory=Volume)
    credit_code_columns: tuple[str, ...] = ()


def dataset_name(ds: Dataset) -> str:
    return f"raw.{ds.table}"


def raw_suites(source: str, declared: Mapping[str, Dataset], specs: Mapping[str, RawSpec]) -> dict[str, Suite]:
    """One registry entry per declared dataset; a dataset without a spec is an error, not a silent gap."""
    missing = sorted(set(declared) - set(specs))
    unknown = sorted(set(specs) - set(declared))
    if missing or unknown:
        raise ValueError(f"{source}: suites missing for {missing}, suites for undeclared {unknown}")
    return {dataset_name(ds): _entry(ds, specs[name]) for name, ds in declared.items()}


def _entry(ds: Dataset, spec: RawSpec, batches: Sequence[LoadedBatch] | None = None) -> Suite:
    def build(schedule: str | None) -> ExpectationSuite:
        return raw_suite(ds, spec, schedule, batches)

    def narrow(chosen: Sequence[LoadedBatch]) -> Suite:
        return _entry(ds, spec, tuple(chosen))

    return Suite(
        dataset=dataset_name(ds),
        layer="raw",
        group=ds.source,
        title=ds.title,
        builder=build,
        source=ds.source,
        query=current_rows_query(ds) if batches is None else batch_rows_query(ds, batches),
        index_columns=(*ds.primary_key, "_batch_id"),
        pii_columns=frozenset(f.name for f in ds.fields if f.pii),
        credit_code_columns=spec.credit_code_columns,
        reconciliation_query=reconciliation_sql(ds, batches),
        narrow=narrow if ds.mode == "incremental" else None,
    )


def raw_suite(
    ds: Dataset, spec: RawSpec, schedule: str | None, batches: Sequence[LoadedBatch] | None = None
) -> ExpectationSuite:
    from great_expectations import ExpectationSuite

    if schedule is None:
        raise ValueError(f"{ds.source}: a raw suite needs the source's schedule (sources.yml) for freshness")
    return ExpectationSuite(
        name=ds.table,
        expectations=[
            columns_exist(ds),
            *keys_not_null(ds),
            unique_per_batch(ds),
            *spec.rules(ds),
            reconciled(ds, batches),
            volume_in_line(ds, spec.volume),
            fresh(ds, schedule),
            has_rows(ds),
        ],
        notes=[f"{ds.title}（原始层当前数据，{_MODE_ZH[ds.mode]}）", f"{ds.title} (raw, current rows, {ds.mode})"],
    )


_MODE_ZH = {"snapshot": "全量快照", "incremental": "增量"}


def current_rows_query(ds: Dataset) -> str:
    """The rows a raw suite validates: per key, those of the latest batch carrying it.

    A window (not ``distinct on``) keeps two rows of one batch with the same
    key visible, so uniqueness per batch can still be tested, and keeps rows
    with a NULL key (one partition), so not-null can be too.
    """
    partition = f"partition by {', '.join(q(k) for k in ds.primary_key)}" if ds.mode == "incremental" else ""
    return (
        f"select * from (select r.*, max(r._extracted_at) over ({partition}) as {CURRENT_AT} "
        f'from raw."{ds.table}" r) as versions where _extracted_at = {CURRENT_AT}'
    )


def batch_rows_query(ds: Dataset, batches: Sequence[LoadedBatch]) -> str:
    """The current rows of ``batches`` only: what an incremental check run validates.

    A row is current when no later version of its key exists: one probe of
    raw's ``(_row_key, _extracted_at)`` index per row of the batches (the key
    columns are compared too, so a hash collision cannot hide a row). The
    batches' ``_extracted_at`` bounds the scan through raw's BRIN. No
    batches: no rows, and no scan.
    """
    table = f'raw."{ds.table}"'
    if not batches:
        return f"select * from {table} where false"
    ids = ", ".join(literal(b.batch_id) for b in batches)
    since = min(b.extracted_at for b in batches)
    newer = " and ".join(f"n.{q(k)} is not distinct from r.{q(k)}" for k in ds.primary_key)
    return (
        f"select * from {table} r where r._batch_id in ({ids}) "
        f"and r._extracted_at >= cast({literal(since.isoformat())} as timestamptz) "
        f"and not exists (select 1 from {table} n where n._row_key = r._row_key "
        f"and n._extracted_at > r._extracted_at and {newer})"
    )


def literal(value: str) -> str:
    """A SQL string literal (batch ids are ours, but nothing is pasted into SQL unquoted)."""
    return "'" + value.replace("'", "''") + "'"


def columns_exist(ds: Dataset) -> Expectation:
    import great_expectations.expectations as gxe

    # exact_match=False: the loader adds a column on schema drift, it never drops one.
    return gxe.ExpectTableColumnsToMatchSet(
        column_set=[*ds.field_names, *LINEAGE],
        exact_match=False,
        **rule(
            "columns_exist",
            BLOCKING,
            Dimension.CONFORMITY,
            "接口文档（连接器声明）规定的字段及血缘字段齐全",
            "every column the connector declares, and the lineage columns, exist",
        ),
    )


def keys_not_null(ds: Dataset) -> list[Expectation]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column=column,
            **rule(
                f"{column}_not_null",
                BLOCKING,
                Dimension.COMPLETENESS,
                f"主键字段 {column} 不为空",
                f"key column {column} is never null",
            ),
        )
        for column in ds.primary_key
    ]


def unique_per_batch(ds: Dataset) -> Expectation:
    import great_expectations.expectations as gxe

    key = ", ".join(ds.primary_key)
    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=[*ds.primary_key, "_batch_id"],
        **rule(
            "unique_per_batch",
            BLOCKING,
            Dimension.ACCURACY,
            f"同一批次内主键（{key}）不重复",
            f"the key ({key}) is unique within a load batch",
        ),
    )


def _batches(ds: Dataset, alias: str = "b") -> str:
    b = alias
    return f"{b}.source = '{ds.source}' and {b}.dataset = '{ds.name}' and {b}.status = 'loaded'"


def reconciled(ds: Dataset, batches: Sequence[LoadedBatch] | None = None) -> Expectation:
    """Every loaded batch adds up, and every current row belongs to a loaded batch (blocking, names the batch)."""
    return unexpected_rows(
        "batches_reconciled",
        reconciliation_sql(ds, batches),
        BLOCKING,
        Dimension.COMPLETENESS,
        "逐批对账：源端行数 = 落地行数 + 隔离行数 + 去重行数；落地行数 = 新增行数 + 未变行数；"
        "原始层与隔离表的行数与批次记录一致；原始层每行都属于一个已加载批次",
        "every batch reconciles: source rows = landed + quarantined + duplicates dropped; landed = inserted + "
        "unchanged; raw and ops.quarantine hold what ops.batches says; every raw row belongs to a loaded batch",
    )


def reconciliation_sql(ds: Dataset, batches: Sequence[LoadedBatch] | None = None) -> str:
    """The batches of ``ds`` that do not reconcile, one row each with its figures and what differs.

    Per batch of ``ops.batches``: rows in the source answer = rows landed in
    Parquet + quarantined + duplicates dropped (a replayed batch: the
    quarantine records it took = rows landed + duplicates); rows landed = rows
    inserted into raw + rows already there unchanged; raw holds ``inserted``
    rows of the batch; ``ops.quarantine`` holds ``quarantined`` records of it.
    A dataset loaded with ``replace_by`` (a re-sent day replaces the day) may
    hold fewer rows of a batch once a later batch replaced some: allowed
    only for a batch that is not the latest. ``batches``: those batches only
    (an incremental check run), their rows found through raw's BRIN.
    """
    replaced_ok = "superseded and rows_in_raw < inserted_count" if ds.extra.get("replace_by") else "false"
    # Per batch in one pass each (group by, not a subquery per batch): raw has no index on _batch_id
    # (every index costs every load), and a year holds tens of thousands of batches.
    chosen = only_raw = only_held = ""
    if batches is not None:
        ids = ", ".join(literal(b.batch_id) for b in batches) or "null"
        since = min((b.extracted_at for b in batches), default=datetime.max.replace(tzinfo=UTC))
        chosen = f" and b.batch_id in ({ids})"
        since_sql = f"cast({literal(since.isoformat())} as timestamptz)"
        only_raw = f" where r._batch_id in ({ids}) and r._extracted_at >= {since_sql}"
        only_held = f" and o.batch_id in ({ids})"
    in_raw = (
        f'left join (select r._batch_id, count(*) as n from raw."{ds.table}" r{only_raw} group by r._batch_id) '
        "as in_raw on in_raw._batch_id = b.batch_id "
        "left join (select o.batch_id, count(*) as n from ops.quarantine o "
        f"where o.batch_id is not null{only_held} group by o.batch_id) as held on held.batch_id = b.batch_id "
        "left join (select o.replay_batch_id, count(*) as n from ops.quarantine o "
        f"where o.replay_batch_id is not null{only_held.replace('o.batch_id', 'o.replay_batch_id')} "
        "group by o.replay_batch_id) as replayed on replayed.replay_batch_id = b.batch_id"
    )
    latest = f"(select max(x.extracted_at) from ops.batches x where {_batches(ds, 'x')})"
    counts = (
        "coalesce(in_raw.n, 0) as rows_in_raw, coalesce(held.n, 0) as rows_in_quarantine, "
        f"coalesce(replayed.n, 0) as rows_replayed, b.extracted_at < {latest} as superseded"
    )
    problems = (
        "concat_ws('; ', "
        "case when origin = 'extract' and source_rows is distinct from row_count + quarantined_count + duplicate_count "
        "then format('source_rows %s <> landed %s + quarantined %s + duplicates %s', "
        "source_rows, row_count, quarantined_count, duplicate_count) end, "
        "case when origin = 'replay' and rows_replayed is distinct from row_count + duplicate_count "
        "then format('replayed records %s <> landed %s + duplicates %s', "
        "rows_replayed, row_count, duplicate_count) end, "
        "case when row_count is distinct from inserted_count + unchanged_count "
        "then format('landed %s <> inserted %s + unchanged %s', row_count, inserted_count, unchanged_count) end, "
        f"case when rows_in_raw is distinct from inserted_count and not ({replaced_ok}) "
        "then format('raw holds %s rows of the batch, inserted %s', rows_in_raw, inserted_count) end, "
        "case when rows_in_quarantine is distinct from quarantined_count "
        "then format('ops.quarantine holds %s records, quarantined %s', rows_in_quarantine, quarantined_count) end)"
    )
    return (
        f"select _batch_id, problem, source_rows, row_count, quarantined_count, duplicate_count, inserted_count, "
        f"unchanged_count, rows_in_raw from (select batch_id as _batch_id, {problems} as problem, * from "
        f"(select b.*, {counts} from ops.batches b {in_raw} where {_batches(ds)}{chosen}) as checked) as judged "
        "where problem <> '' "
        f"union all select _batch_id, 'rows in raw from a batch not loaded by the loader (ops.batches)', "
        # GX leaves {batch} unaliased in a query with a JOIN: the alias is ours.
        f"null, null, null, null, null, null, count(*) from {{batch}} z "
        f"where _batch_id not in (select b.batch_id from ops.batches b where {_batches(ds)}) group by _batch_id"
    )


def has_rows(ds: Dataset) -> Expectation:
    """Raw holds rows (warning): asked of the table, so a run that checks only new batches, and
    finds none, does not call the dataset empty."""
    query = (
        f'select 0 as rows_in_raw where not exists (select 1 from raw."{ds.table}") '
        "and not exists (select 1 from {batch})"
    )
    return unexpected_rows("not_empty", query, WARNING, Dimension.COMPLETENESS, "表中有数据", "the table has rows")


def volume_in_line(ds: Dataset, volume: Volume) -> Expectation:
    non_empty = " and b.source_rows > 0" if ds.mode == "snapshot" else ""
    query = (
        f"with recent as (select b.batch_id, b.row_count, row_number() over "
        f"(order by b.extracted_at desc, b.batch_id desc) as n from ops.batches b "
        f"where {_batches(ds)} and b.origin = 'extract'{non_empty}), "
        f"judged as (select l.batch_id as _batch_id, l.row_count, "
        f"(select percentile_cont(0.5) within group (order by p.row_count) from recent p "
        f"where p.n between 2 and {volume.history + 1}) as median_previous, "
        f"(select count(*) from recent p where p.n between 2 and {volume.history + 1}) as previous_batches "
        f"from recent l where l.n = 1) "
        f"select * from judged where previous_batches >= {volume.min_history} "
        f"and (row_count < {volume.lower} * median_previous - {volume.slack} "
        f"or row_count > {volume.upper} * median_previous + {volume.slack}) "
        f"and exists (select 1 from {{batch}})"
    )
    band_zh = f"{volume.lower}～{volume.upper} 倍（±{volume.slack} 行）"
    band_en = f"{volume.lower}..{volume.upper} times (±{volume.slack} rows)"
    return unexpected_rows(
        "volume_in_line",
        query,
        WARNING,
        Dimension.COMPLETENESS,
        f"最新批次落地行数为此前 {volume.history} 个批次中位数的 {band_zh}"
        f"（至少 {volume.min_history} 个历史批次时判断）",
        f"the latest batch lands {band_en} the median of the previous {volume.history} batches "
        f"(judged once {volume.min_history} earlier batches exist)",
    )


def fresh(ds: Dataset, schedule: str) -> Expectation:
    allowed = freshness_allowance(schedule)
    seconds = int(allowed.total_seconds())
    query = (
        f"select latest_extracted_at, now() - latest_extracted_at as age from (select greatest("
        f"(select max(_extracted_at) from {{batch}}), "
        f"(select max(b.extracted_at) from ops.batches b where {_batches(ds)})) as latest_extracted_at) as latest "
        f"where latest_extracted_at is null or latest_extracted_at < now() - interval '{seconds} seconds'"
    )
    return unexpected_rows(
        "fresh_per_schedule",
        query,
        WARNING,
        Dimension.TIMELINESS,
        f"最近一次抽取不早于 {_human(allowed)} 前（调度 {schedule}：最多错过一次运行）",
        f"the latest extraction is at most {_human(allowed)} old (schedule {schedule}: at most one run missed)",
    )


def freshness_allowance(schedule: str) -> timedelta:
    """Twice the longest gap between two scheduled runs, plus a grace for the run itself."""
    from croniter import croniter  # Airflow's own cron library; any cron or @preset of sources.yml

    start = datetime(2026, 1, 5, tzinfo=UTC)  # fixed: the allowance is a property of the schedule, not of today
    runs = croniter(schedule, start)
    times = [runs.get_next(datetime) for _ in range(400)]
    horizon = [t for t in times if t <= start + timedelta(days=8)] or times[:2]
    gaps = [b - a for a, b in pairwise(horizon)] or [timedelta(days=1)]
    return 2 * max(gaps) + FRESHNESS_GRACE


def _human(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
