"""Hostile register workbooks: bounded, refused whole with the file's name, or quarantined per row.

Given a workbook built to hurt (a dimension claiming A1:XFD4001, a sheet lying
about its size, a zip bomb, a cut-off sheet or zip, formulas saved without a
value, Excel errors, rounded codes, cells merged down a column) or an inbox entry that is not a file, when
the connector reads it, then it is refused with a reason naming the file (and
sheet) or its rows are quarantined naming file, row and column, memory stays
small, and the other registers still load.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from standins.bureau import hostile

from connectors.base import Page
from connectors.bureau.registers import BY_DATASET, DATASETS
from connectors.bureau.source import BureauSource
from connectors.bureau.workbook import WorkbookRejected, read_table
from connectors.files import REFUSED
from connectors.limits import Limits
from edp.ingest.extract import _Typed, type_page

KEY = b"bounds-test-key-0123456789abcdef"
UNTIL = datetime(2030, 1, 1, tzinfo=UTC)
REG = BY_DATASET["division_facts"]
HEADERS = [c.header for c in REG.columns]
FILE = "辖区基础信息.xlsx"


def facts(n: int) -> list[list[object]]:
    return [[f"2103811{i:05d}", f"镇{i}", 1000 + i, 12.5, 122.7, 40.8] for i in range(n)]


def typed(src: BureauSource, dataset: str) -> _Typed:
    out = _Typed()
    for number, page in enumerate(src.read(dataset, None, UNTIL)):
        type_page(src, src.datasets()[dataset], page, f"landing/page-{number}", out)
    return out


def test_a_declared_dimension_beyond_the_limits_is_refused_before_reading() -> None:
    data = hostile.declared_dimension(HEADERS, facts(50))
    with pytest.raises(WorkbookRejected, match=r"declares 4001 rows x 16384 columns \(dimension A1:XFD4001\)"):
        read_table(data, REG, FILE)


def test_a_sheet_lying_small_is_read_whole_and_counted() -> None:
    # claims two rows: all 60 are read (openpyxl would stop at the claim), and counted against the limit
    data = hostile.declared_dimension(HEADERS, facts(60), ref="A1:F2")
    assert len(read_table(data, REG, FILE).rows) == 60
    with pytest.raises(WorkbookRejected, match="more than the limit max_sheet_rows=40 rows"):
        read_table(data, REG, FILE, Limits(max_sheet_rows=40))
    with pytest.raises(WorkbookRejected, match="max_file_records=10"):
        read_table(data, REG, FILE, Limits(max_file_records=10))


def test_a_cell_far_to_the_right_is_refused_by_the_column_limit() -> None:
    data = hostile.stray_cell(HEADERS, facts(5))
    with pytest.raises(WorkbookRejected, match="row 4 reaches column 16384, more than the limit max_sheet_columns"):
        read_table(data, REG, FILE)


def test_a_zip_bomb_is_refused_from_the_zip_directory() -> None:
    data = hostile.zip_bomb(HEADERS, inflated_bytes=24 * 1024 * 1024)
    assert len(data) < 100 * 1024  # 24 MB of sheet XML in well under 100 KB
    with pytest.raises(WorkbookRejected, match=r"unzips to \d+ bytes \(xl/worksheets/sheet1.xml alone"):
        read_table(data, REG, FILE, Limits(max_unzipped_bytes=16 * 1024 * 1024))


@pytest.mark.parametrize("make", [hostile.corrupt_sheet, hostile.truncated])
def test_a_corrupt_sheet_or_zip_is_refused_naming_the_file(make) -> None:
    with pytest.raises(WorkbookRejected, match=f"^{FILE}.*not a readable .xlsx workbook"):
        read_table(make(HEADERS, facts(400)), REG, FILE)


def test_the_bomb_workbook_reads_in_little_memory() -> None:
    """The probe's 130 KB workbook declaring A1:XFD4001 took 715 MB (582 MB here before the fix)."""
    script = textwrap.dedent(
        """
        import resource, sys
        from standins.bureau import hostile
        from connectors.bureau.registers import BY_DATASET
        from connectors.bureau.workbook import WorkbookRejected, read_table
        reg = BY_DATASET["division_facts"]
        rows = [[f"2103811{i:05d}", f"镇{i}", 1000 + i, 12.5, 122.7, 40.8] for i in range(3990)]
        data = hostile.declared_dimension([c.header for c in reg.columns], rows)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            read_table(data, reg, "x.xlsx")
        except WorkbookRejected:
            pass
        print(len(data), before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600)
    size, before, peak = (int(v) for v in out.stdout.split())
    assert size < 200_000
    assert peak - before < 100 * 1024, f"reading the workbook grew the peak RSS by {(peak - before) // 1024} MB"


def test_formulas_without_a_value_and_errors_are_quarantined_per_row(tmp_path: Path, caplog) -> None:
    rows = [
        *facts(3),
        ["210381100001", "镇A", "=C2*2", 12.5, 122.7, 40.8],  # formula saved without a cached value
        ["210381100002", "镇B", 1000, "#DIV/0!", 122.7, 40.8],  # an Excel error
        [210381100003123456.0, "镇C", 1000, 12.5, 122.7, 40.8],  # an 18-digit code Excel has rounded
        ["210381100004", "镇D", True, 12.5, 122.7, 40.8],  # a logical value in a count
    ]
    (tmp_path / FILE).write_bytes(hostile.formula_without_value(HEADERS, rows))
    out = typed(BureauSource(tmp_path, KEY), "division_facts")
    # the rounded code loads as Excel kept it (the GB 32100 rule reports it), with a warning naming the cell
    codes = sorted(r["division_code"] for r in out.rows.values())
    assert codes[:3] == [f"2103811{i:05d}" for i in range(3)]
    assert codes[3] != "210381100003123456" and codes[3].startswith("2103811000031234")  # the digits lost
    assert "row 9 column 所属辖区代码: a number cell with more than 15 digits" in caplog.text
    (formula, error, logical) = [(q["field"], q["reason"]) for q in out.quarantined]
    assert formula == (
        "population",
        f"{FILE} row 7 column 常住人口: cell C7: formula without a cached value (open and save the workbook in Excel)",
    )
    assert (
        error[0] == "area_km2" and "row 8 column 面积(km²): cell D8: the cell holds the Excel error #DIV/0!" in error[1]
    )
    assert (
        logical[0] == "population"
        and "row 10 column 常住人口: cell C10: the cell holds the logical value" in logical[1]
    )
    # replayed (plain dicts from ops.quarantine), the same rows stay quarantined with the same reasons
    again = _Typed()
    page = Page(b"", "application/json", [q["record"] for q in out.quarantined], "replay")
    type_page(BureauSource(tmp_path, KEY), DATASETS["division_facts"], page, "replay", again)
    assert again.rows == {} and [q["reason"] for q in again.quarantined] == [q["reason"] for q in out.quarantined]


def test_links_pipes_and_oversize_workbooks_in_the_inbox_are_refused(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "elsewhere.xlsx").write_bytes(hostile.workbook(HEADERS, facts(2)))
    (inbox / FILE).symlink_to(tmp_path / "elsewhere.xlsx")
    os.mkfifo(inbox / "救援队伍台账.xlsx")
    (inbox / "危险化学品企业台账.xlsx").mkdir()
    big = hostile.workbook(HEADERS, facts(2))
    (inbox / "安全生产隐患排查台账.xlsx").write_bytes(big)
    src = BureauSource(inbox, KEY, Limits(max_file_bytes=len(big) - 1))
    got = {}
    for dataset in ("division_facts", "rescue_teams", "chemical_enterprises", "safety_hazards"):
        (entry,) = typed(src, dataset).quarantined
        assert entry["record"][REFUSED]["file"] == entry["record"]["source_file"]
        got[dataset] = entry["reason"]
    assert "symbolic link" in got["division_facts"] and "named pipe" in got["rescue_teams"]
    assert "directory where a file is expected" in got["chemical_enterprises"]
    assert f"max_file_bytes={len(big) - 1}" in got["safety_hazards"]
    # remembered by what lstat saw: not reported again while unchanged
    pages = list(src.read("division_facts", None, UNTIL))
    assert list(src.read("division_facts", pages[-1].cursor, UNTIL)) == []


def test_a_cell_merged_down_a_column_gives_its_value_to_every_row_it_spans(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["辖区基础信息"])
    ws.merge_cells("A1:F1")  # the title: several columns wide, left alone
    ws.append([])
    ws.append(HEADERS)
    for row in facts(4):
        ws.append(row)
    ws["B4"] = "海州街道"
    ws.merge_cells("B4:B6")  # 名称 merged down three rows, as staff do
    (tmp_path / FILE).write_bytes(_saved(book))
    table = read_table((tmp_path / FILE).read_bytes(), REG, FILE)
    assert [cells["名称"] for _, cells in table.rows] == ["海州街道", "海州街道", "海州街道", "镇3"]


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
