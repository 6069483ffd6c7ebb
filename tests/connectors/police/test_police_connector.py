"""The police connector reading a drop directory filled by the stand-in (no database)."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from standins.police import PoliceFaults, drop_day, populate, resend_day, write_marker

from connectors.base import Page
from connectors.context import SourceContext
from connectors.files import REFUSED
from connectors.police.source import DropState, PoliceSource, create
from edp.ingest.extract import _Typed, type_page

DAY = date(2026, 11, 28)
UNTIL = datetime(2026, 11, 29, 2, 0, tzinfo=timezone(timedelta(hours=8)))
KEY = b"connector-test-key-0123456789ab"


def _source(drop: Path, **options: object) -> PoliceSource:
    return create(SourceContext(name="police", url=str(drop), options=dict(options), pii_key=lambda: KEY))


def _pages(src: PoliceSource, dataset: str, cursor: str | None = None, until: datetime = UNTIL) -> list[Page]:
    return list(src.read(dataset, cursor, until))


def _files(pages: list[Page]) -> list[str]:
    return [json.loads(p.body)["file"] for p in pages]


def test_reads_each_file_once_in_day_order_and_the_cursor_remembers_it(tmp_path: Path) -> None:
    populate(tmp_path, seed=3, scale=0.2, days=3, end_date=DAY)
    src = _source(tmp_path)
    pages = _pages(src, "accidents")
    assert _files(pages) == ["JTSG_20261126.csv", "JTSG_20261127.csv", "JTSG_20261128.csv"]
    state = json.loads(pages[-1].cursor)
    assert set(state["files"]) == set(_files(pages)) and state["rejected"] == {}
    assert _pages(src, "accidents", pages[-1].cursor) == []
    # every later state sorts later: edp.storage.ops only moves a cursor forward
    assert pages[0].cursor < pages[1].cursor < pages[2].cursor


def test_a_day_is_read_only_once_until_has_passed_its_end(tmp_path: Path) -> None:
    populate(tmp_path, seed=3, scale=0.2, days=2, end_date=DAY)
    src = _source(tmp_path)
    assert _files(_pages(src, "key_units", until=datetime(2026, 11, 28, 23, 59, tzinfo=UNTIL.tzinfo))) == [
        "ZDDW_20261127.csv"
    ]
    assert len(_pages(src, "key_units", until=datetime(2026, 11, 29, 0, 0, tzinfo=UNTIL.tzinfo))) == 2


def test_files_older_than_the_window_are_not_read(tmp_path: Path) -> None:
    populate(tmp_path, seed=3, scale=0.2, days=5, end_date=DAY)
    assert _files(_pages(_source(tmp_path, window_days=2), "key_units")) == [
        "ZDDW_20261126.csv",
        "ZDDW_20261127.csv",
        "ZDDW_20261128.csv",
    ]


def test_a_file_without_marker_waits_and_is_read_once_the_marker_appears(tmp_path: Path) -> None:
    drop_day(tmp_path, DAY, seed=3, scale=0.2, faults=PoliceFaults(missing_marker=True))
    src = _source(tmp_path)
    assert _pages(src, "alarms") == []
    assert "JJXX_20261128.csv" in src.pending
    write_marker(tmp_path, "JJXX_20261128.csv")
    pages = _pages(_source(tmp_path), "alarms")
    assert _files(pages) == ["JJXX_20261128.csv"] and pages[0].records


def test_a_resent_file_is_read_again(tmp_path: Path) -> None:
    drop_day(tmp_path, DAY, seed=3, scale=0.2)
    src = _source(tmp_path)
    first = _pages(src, "alarm_daily_counts")
    resend_day(tmp_path, DAY, seed=3, scale=0.2)
    again = _pages(src, "alarm_daily_counts", first[-1].cursor)
    assert _files(again) == ["JJXX_20261128.csv"]
    assert json.loads(again[0].body)["md5"] != json.loads(first[0].body)["md5"]


def test_a_bad_marker_rejects_the_file_whole_once_until_it_changes(tmp_path: Path, caplog) -> None:
    info = drop_day(tmp_path, DAY, seed=3, scale=0.2, kinds=["JJXX"], faults=PoliceFaults(bad_marker_md5=True))
    src = _source(tmp_path)
    with caplog.at_level(logging.ERROR, logger="connectors.police.source"):
        pages = _pages(src, "alarms")
    # one content-free record that extract quarantines as it is, named after the file
    assert len(pages) == 1 and len(pages[0].records) == 1
    record = pages[0].records[0]
    refused = record[REFUSED]
    assert refused["reason"].startswith("file rejected whole: md5 mismatch") and refused["field"] == "source_file"
    assert refused["locator"].endswith("/JJXX_20261128.csv") and len(refused["sha256"]) == 64
    assert {k for k, v in record.items() if v is not None} == {"report_date", "source_file", REFUSED}
    body = json.loads(pages[0].body)
    assert body["rejected"].startswith("md5 mismatch") and body["records"] == [dict(record)]
    assert src.rejections == [{"dataset": "alarms", "file": "JJXX_20261128.csv", "reason": body["rejected"]}]
    assert "JJXX_20261128.csv rejected whole" in caplog.text
    typed = _Typed()
    type_page(src, src.datasets()["alarms"], pages[0], "landing/x", typed)
    assert typed.rows == {} and typed.quarantined[0]["field"] == "source_file"
    assert typed.quarantined[0]["locator"] == refused["locator"]
    assert not any(v in caplog.text + pages[0].body.decode() for v in info["pii_values"])
    # not reported again while nothing changed; read when the bureau fixes the marker
    assert _pages(src, "alarms", pages[0].cursor) == []
    write_marker(tmp_path, "JJXX_20261128.csv")
    fixed = _pages(src, "alarms", pages[0].cursor)
    assert len(fixed) == 1 and len(fixed[0].records) == len(info["emergency_ids"])
    assert json.loads(fixed[0].cursor)["rejected"] == {}


def test_a_wrong_row_count_rejects_the_file(tmp_path: Path) -> None:
    drop_day(tmp_path, DAY, seed=3, scale=0.2, kinds=["ZDDW"], faults=PoliceFaults(bad_marker_rows=True))
    src = _source(tmp_path)
    pages = _pages(src, "key_units")
    assert "row count mismatch" in src.rejections[0]["reason"]
    assert all(REFUSED in r for p in pages for r in p.records)


def test_only_emergency_alarms_become_records_and_the_landed_body_has_no_other(tmp_path: Path) -> None:
    info = drop_day(tmp_path, DAY, seed=3, scale=0.5, kinds=["JJXX"])
    src = _source(tmp_path)
    alarms = _pages(src, "alarms")[0]
    counts = _pages(src, "alarm_daily_counts")[0]
    assert sorted(r["alarm_id"] for r in alarms.records) == sorted(info["emergency_ids"])
    others = set(info["keys"]["JJXX_20261128.csv"]) - set(info["emergency_ids"])
    assert others and not any(key in alarms.body.decode() + counts.body.decode() for key in others)
    got = {f"{r['category_code']}|{r['division_code']}": r["alarm_count"] for r in counts.records}
    assert got == info["non_emergency_counts"]


def test_duplicated_rows_do_not_inflate_counts(tmp_path: Path) -> None:
    info = drop_day(tmp_path, DAY, seed=3, scale=0.5, kinds=["JJXX"], faults=PoliceFaults(duplicate_rate=0.2))
    assert info["duplicated"]["JJXX_20261128.csv"]
    counts = _pages(_source(tmp_path), "alarm_daily_counts")[0]
    assert {f"{r['category_code']}|{r['division_code']}": r["alarm_count"] for r in counts.records} == info[
        "non_emergency_counts"
    ]


def test_cursor_that_is_not_the_state_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not the drop state JSON"):
        _pages(_source(tmp_path), "alarms", "2026-11-28T00:00:00+08:00")


def test_cursor_forgets_files_older_than_the_window() -> None:
    state = DropState(4, {"JJXX_20260101.csv": "a", "JJXX_20261128.csv": "b"}, {"JJXX_20261001.csv": "c:d"})
    assert json.loads(state.dump(date(2026, 11, 1))) == {
        "seq": "0000000004",
        "files": {"JJXX_20261128.csv": "b"},
        "rejected": {},
    }


def test_check_reports_files_and_missing_markers(tmp_path: Path) -> None:
    drop_day(tmp_path, DAY, seed=3, scale=0.2, kinds=["JTSG"], faults=PoliceFaults(missing_marker=True))
    result = _source(tmp_path).check()
    assert result.ok and result.details == {"files": 1, "without_marker": 1}
    missing = _source(tmp_path / "absent").check()
    assert not missing.ok and "does not exist" in missing.message


def test_the_connector_never_changes_the_drop(tmp_path: Path) -> None:
    populate(tmp_path, seed=3, scale=0.2, days=2, end_date=DAY, faults=PoliceFaults(bad_marker_rows=True))
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.iterdir()}
    src = _source(tmp_path)
    for dataset in src.datasets():
        _pages(src, dataset)
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.iterdir()} == before


def test_file_url_and_unknown_scheme(tmp_path: Path) -> None:
    drop_day(tmp_path, DAY, seed=3, scale=0.2, kinds=["ZDDW"])
    src = create(SourceContext(name="police", url=tmp_path.as_uri(), pii_key=lambda: KEY))
    assert len(_pages(src, "key_units")) == 1
    with pytest.raises(ValueError, match="directory, file:// or s3://"):
        create(SourceContext(name="police", url="ftp://host/x", pii_key=lambda: KEY))
