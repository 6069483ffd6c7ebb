"""Failing samples: which rows broke a rule, which batches they came from, personal data masked.

A sample is what an auditor (and the report) sees of a failure, and it stays
in ``audit`` for good, so personal information never enters it in clear:
values of columns a connector declares ``pii`` are replaced by :data:`MASK`
before the sample is stored. Pseudonyms are masked too: they still single a
person out across records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from edp.settings import Settings
from edp.storage.warehouse import engine
from expectations.spec import Suite

SAMPLE_SIZE = 20  # unexpected values or rows kept per failed expectation
MAX_BATCHES = 50  # batches named per failed expectation
MASK = "***"
BATCH_COLUMN = "_batch_id"
_JOIN = re.compile(r"\bjoin\b", re.IGNORECASE)


def batch_sql(suite: Suite, query: str) -> str:
    """What GX substitutes for ``{batch}`` in ``query``, so a sample reads the very rows GX judged.

    Always a derived table (a whole table too: ``select * from it``); GX adds
    ``AS subselect`` itself unless the query joins, and then the query aliases it.
    """
    schema, table = suite.schema_table
    rows = suite.query or f'select * from "{schema}"."{table}"'
    return f"({rows})" if _has_join(query) else f"({rows}) AS subselect"


def _has_join(query: str) -> bool:
    try:  # GX's own test (it ignores JOIN inside quotes and comments), so both always agree
        from great_expectations.expectations.metrics.query_metric_provider import _query_has_join_clause
    except ImportError:
        return bool(_JOIN.search(query))
    return bool(_query_has_join_clause(query))


def unexpected_rows(settings: Settings, suite: Suite, query: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The first rows an UnexpectedRowsExpectation's query returns, and the batches of all its rows.

    Run here, not through GX: at SUMMARY GX keeps only the row count, and its
    ways to fetch rows either read them all (ValidationDefinition.get_unexpected_rows)
    or draw progress bars on every call (Batch.compute_metrics).
    """
    # Same substitution GX makes (str.format, so {{ }} escapes behave alike).
    sql = query.format(batch=batch_sql(suite, query))
    with engine(settings).connect() as c:
        rows = [dict(row) for row in c.execute(as_text(f"select * from ({sql}) as unexpected limit {SAMPLE_SIZE}"))
                .mappings()]  # fmt: skip
        batches: list[str] = []
        if rows and BATCH_COLUMN in rows[0]:
            found: sa.ScalarResult[Any] = c.execute(
                as_text(
                    f"select distinct {BATCH_COLUMN} from ({sql}) as unexpected "
                    f"where {BATCH_COLUMN} is not null order by 1 limit {MAX_BATCHES}"
                )
            ).scalars()
            batches = [str(b) for b in found]
    return [mask_row(r, suite.pii_columns) for r in rows], batches


def as_text(sql: str) -> sa.TextClause:
    """The query as GX runs it (``sa.text``: '%' is escaped for the driver, '::' casts are not binds)."""
    return sa.text(sql)


def from_result(suite: Suite, column: str | None, result: dict[str, Any]) -> Any:
    """The sample GX returned: rows named by key and batch when it has them, else the values."""
    pii = suite.pii_columns
    if result.get("partial_unexpected_index_list"):
        return [mask_row(r, pii) for r in result["partial_unexpected_index_list"][:SAMPLE_SIZE]]
    if result.get("partial_unexpected_list"):
        values = result["partial_unexpected_list"][:SAMPLE_SIZE]
        if isinstance(values[0], dict):  # compound columns: one dict per row
            return [mask_row(v, pii) for v in values]
        return [MASK if column in pii else v for v in values]
    return result.get("details")


def batches_of(sample: Any) -> list[str]:
    """The load batches a sample names (rows carrying ``_batch_id``)."""
    if not isinstance(sample, list):
        return []
    found = {str(r[BATCH_COLUMN]) for r in sample if isinstance(r, dict) and r.get(BATCH_COLUMN)}
    return sorted(found)[:MAX_BATCHES]


def mask_row(row: dict[str, Any], pii: Iterable[str]) -> dict[str, Any]:
    hidden = set(pii)
    return {k: (MASK if k in hidden and v is not None else v) for k, v in row.items()}
