"""Reading a hand-kept register workbook with openpyxl (read-only, cached values).

Staff put a merged title row and a blank row above the header, notes
(``填报单位：…``, ``填报人：…``, ``填报日期：…``) and sometimes a ``合计`` line under
the table, and leave empty lines inside it; those are dropped (and counted).
The header row is the row (among the first few of any sheet) that matches the
register's columns best; a header that does not match exactly is refused with
the missing and unknown columns named.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from connectors.bureau.registers import Register
from connectors.bureau.values import is_blank
from edp.errors import DataRejected

HEADER_SCAN_ROWS = 12
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


def read_table(data: bytes, register: Register, file_name: str) -> Table:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise WorkbookRejected(f"{file_name}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    try:
        sheets = [(ws.title, [tuple(row) for row in ws.iter_rows(values_only=True)]) for ws in book.worksheets]
    finally:
        book.close()
    expected = {header_key(c.header): c.header for c in register.columns}
    best: tuple[int, str, int, list[tuple[Any, ...]]] | None = None
    for title, rows in sheets:
        for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
            score = len({header_key(c) for c in row} & expected.keys())
            if score and (best is None or score > best[0]):
                best = (score, title, index, rows)
    if best is None or best[0] < max(2, len(expected) // 2):
        raise WorkbookRejected(
            f"{file_name}: no header row of {register.title} in the first {HEADER_SCAN_ROWS} rows of any sheet "
            f"(expected columns: {', '.join(c.header for c in register.columns)})"
        )
    _, title, index, rows = best
    header = [header_key(c) for c in rows[index]]
    _check_header(header, rows[index], expected, register, file_name, title, index + 1)
    table = Table(sheet=title, header_row=index + 1)
    for number, row in enumerate(rows[index + 1 :], start=index + 2):
        cells = list(row) + [None] * (len(header) - len(row))
        if all(is_blank(c) for c in cells):
            table.empty_rows += 1
            continue
        first = next(c for c in cells if not is_blank(c))
        if isinstance(first, str) and (
            NOTE.match(unicodedata.normalize("NFKC", first.strip())) or TOTAL.match(first.strip())
        ):
            table.note_rows += 1
            continue
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
