"""Reading a hand-kept register workbook with openpyxl (read-only streaming, cached values), bounded.

Nothing in the file is trusted: the zip's directory is checked before any part
is inflated (``limits.max_unzipped_bytes``), a sheet's declared dimension
before it is read and its real rows and columns while streaming
(``max_sheet_rows``, ``max_sheet_columns``, ``max_file_records``), and any
failure of the reader becomes a :class:`WorkbookRejected` naming file and
sheet. A cell no value can stand for faithfully (a formula saved without its
cached value, an Excel error, a logical value) becomes a marker that the
connector quarantines with the row, field and reason, never NULL.

Staff put a merged title row and a blank row above the header, notes
(``填报单位：…``, ``填报人：…``, ``填报日期：…``) and sometimes a ``合计`` line under
the table, and leave empty lines inside it; those are dropped (and counted).
The header row is the row (among the first few of any sheet) that matches the
register's columns best; a header that does not match exactly is refused with
the missing and unknown columns named.
"""

from __future__ import annotations

import io
import itertools
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.xml.functions import iterparse

from connectors.bureau.registers import Register
from connectors.bureau.values import is_blank, unrepresentable
from connectors.limits import Limits
from edp.errors import DataRejected

HEADER_SCAN_ROWS = 12
# An .xlsx has a dozen parts; thousands means something else was zipped up.
MAX_ZIP_PARTS = 1000
# Merged ranges one sheet may hold (each is checked against every row it spans).
MAX_MERGED_RANGES = 10_000
NOTE = re.compile(r"^(填报单位|填报人|填报日期|填表人|填表日期|制表人|制表日期|审核人|单位负责人|备注|说明|注)\s*[:：]")
# A total line staff add under the table is arithmetic, not a register entry.
TOTAL = re.compile(r"^(合\s*计|小\s*计|总\s*计)\s*[:：]?$")


class WorkbookRejected(DataRejected, ValueError):
    """A workbook that cannot be read as its register: unreadable, or its header does not match."""

    def __init__(
        self,
        message: str,
        *,
        missing: list[str] | None = None,
        unknown: list[str] | None = None,
        header_row: int | None = None,
        sheet: str | None = None,
    ) -> None:
        super().__init__(message)
        self.missing = missing or []
        self.unknown = unknown or []
        self.header_row = header_row
        self.sheet = sheet


@dataclass
class Table:
    sheet: str
    header_row: int  # 1-based, as Excel numbers rows
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (row number, {header: cell})
    empty_rows: int = 0
    note_rows: int = 0


def header_key(value: Any) -> str:
    """全角 and half-width, spaces, ² → 2: how two spellings of one header compare equal."""
    if is_blank(value):
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def check_zip(data: bytes, file_name: str, limits: Limits) -> None:
    """Refuse a workbook by its zip directory, before any part is inflated (zip bombs, junk)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise WorkbookRejected(f"{file_name}: not a readable .xlsx workbook (not a zip: {exc})") from None
    if len(infos) > MAX_ZIP_PARTS:
        raise WorkbookRejected(f"{file_name}: refused: {len(infos)} parts in the zip, more than {MAX_ZIP_PARTS}")
    # The sizes the directory declares bound what zipfile inflates: a part that inflates further fails its CRC.
    total = sum(i.file_size for i in infos)
    largest = max(infos, key=lambda i: i.file_size, default=None)
    if total > limits.max_unzipped_bytes and largest is not None:
        raise WorkbookRejected(
            f"{file_name}: refused: unzips to {total} bytes ({largest.filename} alone {largest.file_size}), "
            f"more than the limit max_unzipped_bytes={limits.max_unzipped_bytes}"
        )
    strings = sum(i.file_size for i in infos if i.filename.lower().endswith("sharedstrings.xml"))
    if strings > limits.max_unzipped_bytes // 4:
        raise WorkbookRejected(
            f"{file_name}: refused: its shared strings unzip to {strings} bytes, more than a quarter of "
            f"max_unzipped_bytes={limits.max_unzipped_bytes} (they are held in memory whole)"
        )


def _check_declared(ws: Any, file_name: str, limits: Limits) -> None:
    """The sheet's ``<dimension>`` is a claim: one too large is refused, then forgotten (rows are counted)."""
    rows, columns = ws.max_row or 0, ws.max_column or 0
    if rows > limits.max_sheet_rows or columns > limits.max_sheet_columns:
        raise WorkbookRejected(
            f"{file_name} (sheet {ws.title!r}): refused: declares {rows} rows x {columns} columns "
            f"(dimension {ws.calculate_dimension()}), more than the limits max_sheet_rows={limits.max_sheet_rows}, "
            f"max_sheet_columns={limits.max_sheet_columns}",
            sheet=ws.title,
        )
    # Forget the claim: openpyxl would pad every row to the declared width and stop at the declared height.
    ws.reset_dimensions()


def _open(data: bytes, *, data_only: bool) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=data_only, keep_links=False)


def read_table(data: bytes, register: Register, file_name: str, limits: Limits | None = None) -> Table:
    """The register's table in ``data``, read in streaming mode within ``limits``; WorkbookRejected otherwise.

    Whatever fails inside openpyxl or the XML parser (a corrupt or cut-off
    sheet) is a WorkbookRejected naming the file and sheet: one bad upload is
    refused whole and never stops the other registers.
    """
    limits = limits or Limits()
    check_zip(data, file_name, limits)
    reading: list[str] = []  # the sheet being read, for the message if the reader breaks
    books: list[Any] = []
    try:
        # Two streams over the same sheet: cached values, and the formulas (to tell "no value" from "empty").
        books.append(_open(data, data_only=True))
        books.append(_open(data, data_only=False))
        values_book, formula_book = books
        best = _find_header(values_book, register, file_name, limits, reading)
        sheet = best[1]
        reading.append(sheet)
        return _read_rows(values_book[sheet], formula_book[sheet], best, register, file_name, limits)
    except WorkbookRejected:
        raise
    except Exception as exc:  # the boundary: a hostile file may break the reader in any way
        broken = reading[-1] if reading else None
        where = f" (sheet {broken!r})" if broken else ""
        raise WorkbookRejected(
            f"{file_name}{where}: not a readable .xlsx workbook ({type(exc).__name__}: {str(exc)[:200]})", sheet=broken
        ) from None
    finally:
        for book in books:
            book.close()


def _find_header(
    book: Any, register: Register, file_name: str, limits: Limits, reading: list[str]
) -> tuple[int, str, int, tuple]:
    """(score, sheet, 0-based index, header row) of the best header among the first rows of every sheet."""
    expected = {header_key(c.header): c.header for c in register.columns}
    best: tuple[int, str, int, tuple] | None = None
    for ws in book.worksheets:
        reading.append(ws.title)
        _check_declared(ws, file_name, limits)
        for index, row in enumerate(itertools.islice(ws.iter_rows(values_only=True), HEADER_SCAN_ROWS)):
            if len(row) > limits.max_sheet_columns:
                raise WorkbookRejected(_too_wide(file_name, ws.title, index + 1, len(row), limits), sheet=ws.title)
            score = len({header_key(c) for c in row} & expected.keys())
            if score and (best is None or score > best[0]):
                best = (score, ws.title, index, tuple(row))
    if best is None or best[0] < max(2, len(expected) // 2):
        raise WorkbookRejected(
            f"{file_name}: no header row of {register.title} in the first {HEADER_SCAN_ROWS} rows of any sheet "
            f"(expected columns: {', '.join(c.header for c in register.columns)})"
        )
    return best


def _too_wide(file_name: str, sheet: str, row: int, width: int, limits: Limits) -> str:
    return (
        f"{file_name} (sheet {sheet!r}): refused: row {row} reaches column {width}, "
        f"more than the limit max_sheet_columns={limits.max_sheet_columns}"
    )


def _cell_value(cell: Any, formula: Any, coordinate: str) -> Any:
    """The cell's value, or a marker when no value can stand for it faithfully (``values.unrepresentable``)."""
    kind = getattr(cell, "data_type", "n")
    if kind == "e":
        return unrepresentable(coordinate, f"the cell holds the Excel error {cell.value}")
    if kind == "b":
        return unrepresentable(
            coordinate, f"the cell holds the logical value {cell.value} where a register value is expected"
        )
    if cell.value is None and getattr(formula, "data_type", "n") == "f":
        # Saved by a program that does not calculate: NULL would be a silent guess.
        return unrepresentable(coordinate, "formula without a cached value (open and save the workbook in Excel)")
    return cell.value


def _column_merges(ws: Any, file_name: str, width: int) -> list[tuple[int, int, int]]:
    """(0-based column, first row, last row) of the sheet's merged ranges one column wide, spanning rows.

    Read-only worksheets do not expose merged cells, so the sheet's XML is
    streamed once more for its ``<mergeCell>`` elements (after the rows),
    clearing each row as it passes. Ranges several columns wide (titles,
    notes) are left alone: their value stays in the top-left cell.
    """
    found: list[tuple[int, int, int]] = []
    count = 0
    with ws._get_source() as source:  # openpyxl's own part reader: no public API for this in read-only mode
        for _, element in iterparse(source):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "mergeCell":
                count += 1
                if count > MAX_MERGED_RANGES:
                    raise WorkbookRejected(
                        f"{file_name} (sheet {ws.title!r}): refused: more than {MAX_MERGED_RANGES} merged ranges",
                        sheet=ws.title,
                    )
                min_col, min_row, max_col, max_row = range_boundaries(element.get("ref", ""))
                if None in (min_col, min_row, max_col, max_row):
                    continue  # a whole row or column merged: nothing a register row means
                assert min_col is not None and min_row is not None and max_row is not None
                if min_col == max_col and max_row > min_row and min_col <= width:
                    found.append((min_col - 1, min_row, max_row))
            if tag in ("row", "mergeCell"):
                element.clear()
    return found


def _read_rows(
    ws: Any, formulas: Any, best: tuple[int, str, int, tuple], register: Register, file_name: str, limits: Limits
) -> Table:
    _, title, index, written = best
    expected = {header_key(c.header): c.header for c in register.columns}
    header = [header_key(c) for c in written]
    _check_header(header, written, expected, register, file_name, title, index + 1)
    _check_declared(ws, file_name, limits)
    _check_declared(formulas, file_name, limits)
    table = Table(sheet=title, header_row=index + 1)
    merges = sorted((m for m in _column_merges(ws, file_name, len(header)) if m[1] > index + 1), key=lambda m: m[1])
    tops: dict[tuple[int, int], Any] = {}
    active: list[tuple[int, int, int]] = []
    starting = 0  # merges[:starting] have begun
    pairs = itertools.zip_longest(ws.iter_rows(), formulas.iter_rows(), fillvalue=())
    for number, (row, formula_row) in enumerate(pairs, start=1):
        if number > limits.max_sheet_rows:
            raise WorkbookRejected(
                f"{file_name} (sheet {title!r}): refused: more than the limit max_sheet_rows={limits.max_sheet_rows} "
                "rows (whatever its dimension says)",
                sheet=title,
            )
        if len(row) > limits.max_sheet_columns:
            raise WorkbookRejected(_too_wide(file_name, title, number, len(row), limits), sheet=title)
        if number <= index + 1:
            continue
        cells = [
            _cell_value(row[i], formula_row[i] if i < len(formula_row) else None, f"{get_column_letter(i + 1)}{number}")
            if i < len(row)
            else None
            for i in range(len(header))
        ]
        active = [m for m in active if m[2] >= number]
        while starting < len(merges) and merges[starting][1] <= number:
            active.append(merges[starting])
            starting += 1
        for column, top, _ in active:
            # A cell merged down a column shows its top cell's value on every row it spans (常见: 储备库名称).
            if number == top:
                tops[(column, top)] = cells[column]
            elif cells[column] is None:
                cells[column] = tops.get((column, top))
        if all(is_blank(c) for c in cells):
            table.empty_rows += 1
            continue
        first = next(c for c in cells if not is_blank(c))
        if isinstance(first, str) and (
            NOTE.match(unicodedata.normalize("NFKC", first.strip())) or TOTAL.match(first.strip())
        ):
            table.note_rows += 1
            continue
        if len(table.rows) >= limits.max_file_records:
            raise WorkbookRejected(
                f"{file_name} (sheet {title!r}): refused: more than the limit "
                f"max_file_records={limits.max_file_records} records",
                sheet=title,
            )
        table.rows.append((number, {expected[h]: cells[i] for i, h in enumerate(header) if h in expected}))
    return table


def _check_header(
    header: list[str],
    written: tuple[Any, ...],
    expected: dict[str, str],
    register: Register,
    file_name: str,
    sheet: str,
    row: int,
) -> None:
    present = [h for h in header if h]
    missing = [expected[k] for k in expected if k not in present]
    unknown = [str(written[i]).strip() for i, h in enumerate(header) if h and h not in expected]
    repeated = sorted({expected[h] for h in present if h in expected and present.count(h) > 1})
    if not (missing or unknown or repeated):
        return
    parts = []
    if missing:
        parts.append(f"missing column(s): {', '.join(missing)}")
    if unknown:
        parts.append(f"unknown column(s): {', '.join(unknown)}")
    if repeated:
        parts.append(f"repeated column(s): {', '.join(repeated)}")
    raise WorkbookRejected(
        f"{file_name} (sheet {sheet!r}, header row {row}): the header does not match {register.title}: "
        + "; ".join(parts)
        + "; the whole workbook is rejected (upload a corrected version)",
        missing=missing,
        unknown=unknown + repeated,
        header_row=row,
        sheet=sheet,
    )
