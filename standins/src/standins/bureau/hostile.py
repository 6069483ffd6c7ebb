"""Hostile register workbooks, as a careless or malicious upload could make them.

Each function returns the bytes of an ``.xlsx`` whose header is the register's,
so a reader gets past the header before meeting the damage:

- ``declared_dimension``: a small sheet whose ``<dimension ref>`` claims
  ``A1:XFD4001`` (the probe's 130 KB workbook that took 715 MB);
- ``formula_without_value``: formula cells saved without a cached value (as
  written by a library, not by Excel, which always calculates before saving);
- ``corrupt_sheet``: the sheet XML cut off in the middle;
- ``zip_bomb``: a sheet XML that inflates far beyond its compressed size;
- ``truncated``: the zip cut off (no central directory).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"


def workbook(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title_row: bool = True) -> bytes:
    """A plain register: optional title row, header, rows (a value starting with ``=`` is a formula)."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Sheet1"
    if title_row:
        ws.append(["台账"])
        ws.append([])
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rewrite(data: bytes, member: str, change: Any) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == member:
                body = change(body)
            dst.writestr(info.filename, body)
    return out.getvalue()


def declared_dimension(headers: Sequence[str], rows: Sequence[Sequence[Any]], ref: str = "A1:XFD4001") -> bytes:
    """A sheet that declares ``ref`` as its dimension whatever it holds."""
    data = workbook(headers, rows)
    return _rewrite(data, SHEET, lambda b: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), b))


def stray_cell(headers: Sequence[str], rows: Sequence[Sequence[Any]], column: str = "XFD") -> bytes:
    """A sheet whose dimension tells the truth about the table but one row has a cell far to the right."""
    data = workbook(headers, rows)
    cell = f'<c r="{column}4" t="inlineStr"><is><t>x</t></is></c>'.encode()
    row_four = re.compile(rb'(<row r="4"[^>]*>.*?)(</row>)')
    return _rewrite(data, SHEET, lambda b: row_four.sub(rb"\1" + cell + rb"\2", b, count=1))


def formula_without_value(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """openpyxl writes formulas (``=...`` values) without a cached value, as any library does."""
    return workbook(headers, rows)


def corrupt_sheet(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """The worksheet XML cut off after its first rows (the zip itself is sound)."""
    data = workbook(headers, rows)
    return _rewrite(data, SHEET, lambda b: b[: len(b) * 2 // 3])


def zip_bomb(headers: Sequence[str], inflated_bytes: int = 300 * 1024 * 1024) -> bytes:
    """A sheet padded with ``inflated_bytes`` of blanks inside the XML: a few hundred KB compressed."""
    data = workbook(headers, [])

    def pad(body: bytes) -> bytes:
        return body.replace(b"<sheetData>", b"<sheetData>" + b" " * inflated_bytes, 1)

    return _rewrite(data, SHEET, pad)


def truncated(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """The upload cut off: the zip's central directory is missing."""
    data = workbook(headers, rows)
    return data[: len(data) // 2]
