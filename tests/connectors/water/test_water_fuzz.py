"""Hostile SL 323 rows (hypothesis) and the water reader's bounds: NULL times, wrong types, no LIMIT.

Given rows as a driver returns them (strings, numbers, Decimals, datetimes, bytes, NULLs, in any column),
when they become a page and are typed as an ingest types them, then no exception escapes, every bad row
is quarantined with page, index, field and reason, and the good rows of the same page load. Rows without
TM are read on their own and quarantined, not skipped; a database answering more rows than the LIMIT
asked for is refused, not held.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from connectors.limits import Limits, PageTooLarge
from connectors.water.source import RAINFALL, WaterSource, _page
from tests.support.fuzz import FUZZ, assert_accounted, hostile_text, quarantined_indexes, type_records

COLUMNS = ["STCD", "TM", "DRP", "INTV", "PDR", "DYP", "WTH"]
START = datetime(2026, 7, 29, 8, 0)
SOURCE = WaterSource("sqlite://")

driver_value = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True, places=None),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.binary(max_size=12),
    hostile_text,
)


def _good(i: int) -> tuple:
    return (f"4110{i:04d}", START + timedelta(minutes=5 * i), Decimal("0.5"), Decimal("0.05"), None, None, "7")


@FUZZ
@given(st.lists(st.tuples(st.booleans(), st.dictionaries(st.sampled_from(COLUMNS), driver_value, max_size=3))))
def test_hostile_rows_are_quarantined_and_good_ones_load(entries: list) -> None:
    # given good rows and rows with driver values of any type in any column (a NULL TM among them)
    rows, good = [], set()
    for i, (is_good, change) in enumerate(entries):
        row = list(_good(i))
        if not is_good:
            for name, value in change.items():
                row[COLUMNS.index(name)] = value
        else:
            good.add(i)
        rows.append(tuple(row))
    page = _page("ST_PPTN_R", {"from": None, "page": 1}, COLUMNS, rows, None)
    # when the page is typed
    typed = type_records(SOURCE, RAINFALL, page.records)
    # then every row is accounted for, good ones loaded, NULL times quarantined naming tm
    assert_accounted(typed, len(rows))
    assert not quarantined_indexes(typed) & good
    assert {f"4110{i:04d}" for i in good} <= {row["stcd"] for row in typed.rows.values()}
    for i, row in enumerate(rows):
        if row[1] is None:
            assert i in quarantined_indexes(typed)


def _sqlite(tmp_path: Path, rows: list[tuple]) -> str:
    path = tmp_path / "sl323.db"
    con = sqlite3.connect(path)
    # No key on TM: a deployment's copy that does not enforce SL 323's primary key.
    con.execute(
        'create table "ST_PPTN_R" ("STCD" char(8), "TM" datetime, "DRP" numeric(5,1), "INTV" numeric(5,2), '
        '"PDR" numeric(5,2), "DYP" numeric(5,1), "WTH" char(1))'
    )
    con.executemany('insert into "ST_PPTN_R" values (?, ?, ?, 0.05, 0, null, ?)', rows)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_rows_without_tm_are_quarantined_not_skipped(tmp_path) -> None:
    rows = [("411004  ", "2026-07-29 10:20:00", 0.5, "7"), ("21412000", None, 1.0, "7"), ("21412001", None, 2.0, "7")]
    src = WaterSource(_sqlite(tmp_path, rows), initial_days=3)
    try:
        pages = list(src.read("rainfall", None, datetime(2026, 7, 29, 2, 30, tzinfo=UTC)))
    finally:
        src.close()
    typed = type_records(src, RAINFALL, [r for p in pages for r in p.records])
    assert len(typed.rows) == 1
    assert [(q["field"], q["reason"]) for q in typed.quarantined] == [("tm", "required value is missing")] * 2
    assert pages[-1].locator == "ST_PPTN_R rows with TM null (first 5000)" and pages[-1].cursor is None
    assert {r["stcd"] for r in pages[-1].records} == {"21412000", "21412001"}


def test_a_database_answering_more_rows_than_the_limit_is_refused(tmp_path) -> None:
    rows = [(f"4110{i:04d}", f"2026-07-29 10:{i:02d}:00", 0.5, "7") for i in range(30)]
    src = WaterSource(_sqlite(tmp_path, rows), limits=Limits(max_page_records=10))
    try:
        # a statement whose LIMIT the database ignores, as a view or driver might
        stmt = sa.select(sa.literal_column("*")).select_from(sa.table("ST_PPTN_R"))
        with pytest.raises(PageTooLarge, match=r"reading ST_PPTN_R page 1 .* more than the 5 rows asked for"):
            src._run(stmt, "reading ST_PPTN_R page 1", 5)
        with pytest.raises(PageTooLarge, match="more than the 10 rows"):
            src._run(stmt, "reading ST_PPTN_R", None)
        _, fetched = src._run(stmt.limit(5), "reading ST_PPTN_R page 1", 5)
        assert len(fetched) == 5
    finally:
        src.close()
