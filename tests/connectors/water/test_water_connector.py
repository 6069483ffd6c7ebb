"""Water connector without a database server: CHAR padding, local time, validation, SQL, paging."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.dialects import mssql, mysql, oracle, postgresql

from connectors.context import SourceContext
from connectors.schema import type_record
from connectors.water.source import (
    MAX_PAGE_SIZE,
    RAINFALL,
    RESERVOIR_FLOOD_LIMITS,
    STATIONS,
    TABLES,
    WaterSource,
    create,
    database_url,
    to_local,
)
from edp.ingest.extract import _Typed, type_page

CST = timezone(timedelta(hours=8))
PADDED = {
    "stcd": "411004  ",
    "tm": "2026-07-29T08:00:00",
    "drp": "1.5",
    "intv": "0.05",
    "pdr": "0.05",
    "dyp": "23.4",
    "wth": "7",
}


def _source() -> WaterSource:
    return WaterSource("sqlite://")


# -- CHAR padding and local time -----------------------------------------------------------------------------------


def test_char_padding_is_stripped_and_blank_becomes_null() -> None:
    src = _source()
    out = src.normalise(
        "stations", {"stcd": "411004  ", "stnm": "析木东沟" + " " * 26, "rvnm": " " * 30, "usfl": "1", "moditime": None}
    )
    assert out["stcd"] == "411004" and out["stnm"] == "析木东沟"
    assert out["rvnm"] is None
    river = src.normalise("river", {"stcd": "21401100", "tm": "2026-07-29T08:00:00", "flwchrcd": " ", "wptn": ""})
    assert river["flwchrcd"] is None and river["wptn"] is None


def test_naive_tm_is_local_time_and_stored_as_utc() -> None:
    src = _source()
    out = src.normalise("rainfall", dict(PADDED))
    assert out["tm"] == "2026-07-29T08:00:00+08:00"
    row = type_record(RAINFALL, out)
    assert row["tm"] == datetime(2026, 7, 29, 0, 0, tzinfo=UTC)
    assert row["stcd"] == "411004" and row["drp"] == 1.5
    # An aware time (a driver that returns one) is left as it is.
    assert src.normalise("rainfall", {**PADDED, "tm": "2026-07-29T00:00:00+00:00"})["tm"] == "2026-07-29T00:00:00+00:00"


def test_to_local_turns_until_into_the_bureaus_clock() -> None:
    assert to_local(datetime(2026, 7, 29, 2, 30, tzinfo=UTC)) == datetime(2026, 7, 29, 10, 30)
    assert to_local(datetime(2026, 7, 29, 10, 30)) == datetime(2026, 7, 29, 10, 30)


# -- values SL 323 cannot hold are quarantined --------------------------------------------------------------------


def _typed(dataset, records: list[dict]) -> _Typed:
    from connectors.base import Page

    typed = _Typed()
    page = Page(b"{}", "application/json", records, "ST_X page 1")
    type_page(_source(), dataset, page, "landing/water/x/page-00001.json.gz", typed)
    return typed


def test_bad_rainfall_rows_are_quarantined_with_field_and_reason() -> None:
    typed = _typed(
        RAINFALL,
        [
            PADDED,
            {**PADDED, "stcd": "21412001", "drp": "-3.2"},
            {**PADDED, "stcd": "21412002", "intv": "0.00"},
            {**PADDED, "stcd": "        "},
            {**PADDED, "stcd": "21412003", "drp": "abc"},
            {**PADDED, "stcd": "21412004", "tm": None},
        ],
    )
    assert len(typed.rows) == 1
    reasons = {q["field"]: q["reason"] for q in typed.quarantined}
    assert set(reasons) == {"drp", "intv", "stcd", "tm"}
    assert "negative" in reasons["drp"] or "expected float" in reasons["drp"]
    assert sum(q["field"] == "drp" for q in typed.quarantined) == 2
    assert all(q["locator"].startswith("landing/water/x/page-00001.json.gz record ") for q in typed.quarantined)


def test_flood_season_bounds_must_be_month_days() -> None:
    base = {"stcd": "21421200", "edmd": "0915", "fsltdz": "287.504", "fsltdw": "11.2", "fstp": "1"}
    typed = _typed(
        RESERVOIR_FLOOD_LIMITS,
        [
            {**base, "bgmd": "0601"},
            {**base, "bgmd": "0229"},
            {**base, "bgmd": "0631"},
            {**base, "bgmd": "6-01"},
            {**base, "bgmd": "0916", "edmd": "1332"},
        ],
    )
    assert sorted(k[1] for k in typed.rows) == ["0229", "0601"]
    assert sorted((q["field"], q["record"]["bgmd"]) for q in typed.quarantined) == [
        ("bgmd", "0631"),
        ("bgmd", "6-01"),
        ("edmd", "0916"),
    ]


# -- URL and password ---------------------------------------------------------------------------------------------


def test_password_is_inserted_only_when_the_url_has_none() -> None:
    assert database_url("mysql+pymysql://reader@db/sl323", "pw").password == "pw"
    assert database_url("mysql+pymysql://reader:own@db/sl323", "pw").password == "own"
    assert database_url("mysql+pymysql://root:@db/sl323", "pw").password == ""  # explicitly none
    assert database_url("mysql+pymysql://reader@db/sl323", "").password is None
    with pytest.raises(ValueError, match="not a SQLAlchemy database URL"):
        database_url("sandbox", "pw")


def test_create_reads_options_and_hides_the_password() -> None:
    ctx = SourceContext(
        name="water",
        url="postgresql+psycopg://reader@db.example/sl323",
        options={"lookback_hours": 48, "page_size": 100, "schema": "sl323"},
        credential=lambda key: "s3cret" if key == "password" else "",
    )
    src = create(ctx)
    try:
        assert src.url.password == "s3cret"
        assert "s3cret" not in src.safe_url and "***" in src.safe_url
        assert src.lookback == timedelta(hours=48) and src.initial == timedelta(days=3)
        assert src.page_size == 100 and src.schema == "sl323"
    finally:
        src.close()


# -- portable SQL -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "table", "limit"),
    [
        (mysql.dialect(), "`ST_PPTN_R`", "LIMIT"),
        (postgresql.dialect(), '"ST_PPTN_R"', "LIMIT"),
        (oracle.dialect(), '"ST_PPTN_R"', "FETCH FIRST"),
        (mssql.dialect(), "[ST_PPTN_R]", "TOP"),
    ],
)
def test_keyset_query_is_portable_and_bound(dialect, table, limit) -> None:
    src = _source()
    after = (datetime(2026, 7, 29, 8, 0), "411004  ")
    stmt = src._statement(TABLES["rainfall"], datetime(2026, 7, 28, 8), datetime(2026, 7, 29, 10, 30), after)
    compiled = stmt.compile(dialect=dialect)
    sql = str(compiled)
    assert f"FROM {table}" in sql and limit in sql
    assert "2026" not in sql and "411004" not in sql  # values travel as bound parameters
    assert after[1] in compiled.params.values()  # the key exactly as the driver returned it
    assert "ORDER BY" in sql and sql.index("TM") < sql.rindex("STCD")


# -- paging on a real (SQLite) database -----------------------------------------------------------------------------


def _sqlite(tmp_path: Path, rows: list[tuple]) -> str:
    path = tmp_path / "sl323.db"
    con = sqlite3.connect(path)
    con.execute(
        'create table "ST_PPTN_R" ("STCD" char(8), "TM" datetime, "DRP" numeric(5,1), "INTV" numeric(5,2), '
        '"PDR" numeric(5,2), "DYP" numeric(5,1), "WTH" char(1), primary key ("STCD", "TM"))'
    )
    con.execute('create table "ST_STBPRP_B" ("STCD" char(8) primary key, "STNM" char(30))')
    con.executemany('insert into "ST_PPTN_R" values (?, ?, ?, 0.05, 0, null, ?)', rows)
    con.executemany('insert into "ST_STBPRP_B" values (?, ?)', [("411004  ", "析木东沟"), ("21412000", "孤山")])
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def test_keyset_pages_read_every_row_once_and_cursor_is_max_tm(tmp_path) -> None:
    # Three gauges at the same TMs: page boundaries fall inside a TM, so the STCD part of the key matters.
    tms = ["2026-07-29 10:20:00", "2026-07-29 10:25:00", "2026-07-29 10:30:00"]
    rows = [(stcd, tm, 0.5, "7") for tm in tms for stcd in ("21412000", "21412001", "411004  ")]
    rows.append(("21412000", "2026-07-25 10:00:00", 9.9, "7"))  # before the initial window
    src = WaterSource(_sqlite(tmp_path, rows), page_size=2, initial_days=3)
    until = datetime(2026, 7, 29, 2, 30, tzinfo=UTC)
    try:
        pages = list(src.read("rainfall", None, until))
    finally:
        src.close()
    assert [len(p.records) for p in pages] == [2, 2, 2, 2, 1]
    keys = [(r["stcd"], r["tm"]) for p in pages for r in p.records]
    assert len(keys) == len(set(keys)) == 9
    assert pages[-1].cursor == "2026-07-29T10:30:00+08:00"
    body = json.loads(pages[0].body)
    assert body["table"] == "ST_PPTN_R" and body["columns"][:2] == ["STCD", "TM"]
    assert body["query"]["from"] == "2026-07-26T10:30:00" and body["query"]["to"] == "2026-07-29T10:30:00"
    assert any(r["STCD"] == "411004  " for p in pages for r in json.loads(p.body)["rows"])  # the original, padded


def test_pages_never_exceed_their_limit_when_the_source_holds_more(tmp_path) -> None:
    # 8 gauges x 5 days of 5-minute periods: 11 520 rows, read in pages of 1000.
    start = datetime(2026, 7, 24, 10, 35)
    rows = [
        (f"2141{2000 + g:04d}", (start + timedelta(minutes=5 * k)).isoformat(sep=" "), 0.0, "9")
        for k in range(5 * 288)
        for g in range(8)
    ]
    src = WaterSource(_sqlite(tmp_path, rows), page_size=1000, initial_days=5)
    sizes, keys, afters = [], [], []
    try:
        for page in src.read("rainfall", None, datetime(2026, 7, 29, 2, 30, tzinfo=UTC)):
            sizes.append(len(page.records))
            keys.extend((r["tm"], r["stcd"]) for r in page.records)
            afters.append(json.loads(page.body)["query"]["after"])
    finally:
        src.close()
    assert len(sizes) == 12 and max(sizes) == 1000 and sizes[-1] == 520
    assert keys == sorted(set(keys)) and len(keys) == len(rows)  # each row once, in keyset order
    assert afters[0] is None and all(a is not None for a in afters[1:])


def test_a_page_size_is_bounded() -> None:
    assert WaterSource("sqlite://", page_size=MAX_PAGE_SIZE).page_size == 50_000
    for size in (0, MAX_PAGE_SIZE + 1):
        with pytest.raises(ValueError, match="page_size must be between 1 and 50000"):
            WaterSource("sqlite://", page_size=size)


def test_a_later_page_starts_its_index_range_at_the_last_row_read() -> None:
    # Without the explicit bound a DBMS scans (and discards) every row of the earlier pages again.
    after = (datetime(2026, 7, 29, 8, 0), "411004  ")
    stmt = _source()._statement(TABLES["rainfall"], datetime(2026, 7, 1), datetime(2026, 7, 29, 10, 30), after)
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert sql.count('"ST_PPTN_R"."TM" >=') == 2 and sql.count('"ST_PPTN_R"."TM" >') == 3


def test_lookback_rereads_and_cursor_never_moves_back(tmp_path) -> None:
    rows = [("21412000", "2026-07-29 08:00:00", 0.0, "9"), ("21412000", "2026-07-28 12:00:00", 0.1, "7")]
    src = WaterSource(_sqlite(tmp_path, rows), lookback_hours=24)
    try:
        pages = list(src.read("rainfall", "2026-07-29T10:00:00+08:00", datetime(2026, 7, 29, 3, tzinfo=UTC)))
        empty = list(src.read("rainfall", "2026-07-29T10:00:00+08:00", datetime(2026, 7, 28, 1, tzinfo=UTC)))
    finally:
        src.close()
    # From 2026-07-28T10:00 local: both rows, but the cursor stays at the later stored value.
    assert sum(len(p.records) for p in pages) == 2
    assert pages[-1].cursor == "2026-07-29T10:00:00+08:00"
    assert empty[0].records == [] and empty[0].cursor is None


def test_snapshot_and_check(tmp_path) -> None:
    src = WaterSource(_sqlite(tmp_path, []))
    try:
        (page,) = list(src.read("stations", None, datetime.now(UTC)))
        checked = src.check()
    finally:
        src.close()
    assert [r["stcd"] for r in page.records] == ["21412000", "411004  "] and page.cursor is None
    assert checked.ok and checked.details == {"stations": 2}
    assert {r["stcd"] for r in (src.normalise("stations", r) for r in page.records)} == {"21412000", "411004"}
    assert STATIONS.mode == "snapshot" and RAINFALL.primary_key == ("stcd", "tm")


def test_missing_table_is_a_clear_refusal(tmp_path) -> None:
    src = WaterSource(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        checked = src.check()
    finally:
        src.close()
    assert not checked.ok and "ST_STBPRP_B" in checked.message and "refused" in checked.message
