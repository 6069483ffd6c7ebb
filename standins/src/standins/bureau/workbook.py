"""Writing a register the way staff do, with openpyxl.

A merged title row, a blank row, the header, then the rows with the usual
imperfections: numbers stored as text, full-width digits (１２０), trailing
spaces, units written many ways (吨 / t / T, 顶 / 頂), dates as date cells, as
Excel serial numbers or as text (2026/3/5, 2026年3月5日, 2026.03.05, 20260305),
phones as numbers or with dashes, one or two empty lines inside the table and
notes under it (填报单位, 填报人 with name and phone, 填报日期). All of it parses.

Fault switches add what does not parse: ``wrong_header`` (a column dropped and
one renamed), ``malformed_rate`` (a bad number, date or a blank key in a row),
``duplicate_rate`` (a row pasted twice).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from standins.bureau.registers import WRONG_HEADER, Register
from standins.common.determinism import rng
from standins.common.faults import FaultSwitches
from standins.common.timefmt import local_date
from standins.natural_resources.people import mobile, person_name

_FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
_UNIT_SPELLINGS = {"吨": ("吨", "t", "T", "吨 "), "顶": ("顶", "頂", "顶 "), "件": ("件", "件 "), "箱": ("箱", " 箱")}
_BAD = {
    "number": ("若干", "约二百", "--", "见附表"),
    "date": ("2026-02-30", "待定", "2026/13/01"),
    "lonlat": ("东经122度", "122°45′"),
}


@dataclass
class BureauFaults(FaultSwitches):
    wrong_header: bool = False
    malformed_rate: float = 0.0
    duplicate_rate: float = 0.0


@dataclass
class Written:
    """What a written workbook holds, for tests: rows, the damage done and the clear personal values."""

    path: Path
    rows: int = 0  # data rows written (duplicates included)
    keys: set[tuple[Any, ...]] = field(default_factory=set)  # keys of well-formed rows
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (Excel row, header)
    duplicates: int = 0
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    personal: set[str] = field(default_factory=set)


def write_register(
    path: Path,
    reg: Register,
    rows: list[dict[str, Any]],
    *,
    seed: int,
    version: int,
    saved_at: datetime,
    faults: BureauFaults,
) -> Written:
    r = rng(seed, "workbook", reg.dataset, version)
    day = local_date(saved_at)
    out = Written(path)
    headers = list(reg.names)
    renamed = new_name = None
    if faults.wrong_header:
        dropped, renamed, new_name = WRONG_HEADER[reg.dataset]
        headers = [new_name if h == renamed else h for h in headers if h != dropped]
        out.missing, out.unknown = [dropped, renamed], [new_name]
    kinds = dict(reg.headers)
    book = Workbook()
    ws = book.active
    ws.title = reg.title[:31]
    ws.cell(1, 1, f"海城市{reg.title}（{day.year}年{day.month}月）").font = Font(size=16, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    for col, header in enumerate(headers, start=1):
        ws.cell(3, col, header).font = Font(bold=True)
    blanks = {r.randrange(2, max(3, len(rows))) for _ in range(r.randrange(1, 3))}
    number = 4
    for index, row in enumerate(rows):
        if index in blanks:
            number += 1  # an empty line inside the table
        copies = 2 if r.random() < faults.duplicate_rate else 1
        damage = _damage(r, reg, headers) if r.random() < faults.malformed_rate else None
        for _ in range(copies):
            for col, header in enumerate(headers, start=1):
                source = renamed if faults.wrong_header and header == new_name else header
                value = row.get(source)
                kind = kinds.get(source, "text")
                if kind in ("name", "phone") and value:
                    out.personal.add(str(value))
                cell = ws.cell(number, col)
                if damage and damage[0] == header:
                    cell.value = damage[1]
                    out.malformed.append((number, header))
                else:
                    _render(cell, value, kind, r)
            number += 1
            out.rows += 1
        out.duplicates += copies - 1
        if not damage:
            out.keys.add(tuple(row.get(k) for k in reg.key))
    _notes(ws, number + 1, seed, version, day, out)
    for col in range(1, len(headers) + 1):
        ws.column_dimensions[ws.cell(3, col).column_letter].width = 16
    book.properties.creator = "Administrator"
    _save_atomically(book, path, saved_at)
    return out


def _damage(r: Any, reg: Register, headers: list[str]) -> tuple[str, Any]:
    """(header, bad value): a number, date or coordinate nobody can read, or the row's key left blank."""
    kinds = dict(reg.headers)
    candidates = [h for h in headers if kinds.get(h) in ("quantity", "number", "count", "tonnes", "date", "lonlat")]
    key = reg.key[0]
    if not candidates or (key in headers and r.random() < 0.25):
        return key, None
    header = r.choice(candidates)
    kind = kinds[header]
    bad = _BAD["date"] if kind == "date" else _BAD["lonlat"] if kind == "lonlat" else _BAD["number"]
    return header, r.choice(bad)


def _render(cell: Any, value: Any, kind: str, r: Any) -> None:
    """The value as a member of staff would have typed it."""
    roll = r.random()
    if value is None:
        cell.value = None
    elif kind == "date":
        _render_date(cell, value, roll, r)
    elif kind == "datetime":
        _render_datetime(cell, value, roll, r)
    elif kind in ("quantity", "number", "count", "tonnes", "lonlat"):
        cell.value = _number(value, kind, roll, r)
    elif kind == "unit":
        cell.value = r.choice(_UNIT_SPELLINGS.get(value, (value,)))
    elif kind == "code":
        text = str(value)
        # A number when the column was not formatted as text; full-width when typed with a Chinese IME.
        full_width = text.translate(_FULL_WIDTH)
        cell.value = int(text) if text.isdigit() and roll < 0.25 else full_width if roll < 0.3 else text
    elif kind == "phone":
        text = str(value)
        cell.value = (
            int(text)
            if roll < 0.3
            else f"{text[:3]}-{text[3:7]}-{text[7:]}"
            if roll < 0.4
            else f"{text[:3]} {text[3:7]} {text[7:]}"
            if roll < 0.5
            else text
        )
    else:
        cell.value = f"{value}{r.choice((' ', '　', '  '))}" if roll < 0.12 else value


def _number(value: Any, kind: str, roll: float, r: Any) -> Any:
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if roll < 0.05:
        return text.translate(_FULL_WIDTH)
    if roll < 0.25:
        return text + (" " if roll < 0.12 else "")  # stored as text
    if kind == "tonnes" and roll < 0.35:
        return f"{text}{r.choice(('t', '吨', ' 吨'))}"
    if kind == "count" and roll < 0.32:
        return f"{text}人"
    return value


def _render_date(cell: Any, value: date, roll: float, r: Any) -> None:
    if roll < 0.4:
        cell.value = datetime(value.year, value.month, value.day)
        cell.number_format = r.choice(("yyyy/m/d", "yyyy-mm-dd", 'yyyy"年"m"月"d"日"'))
    elif roll < 0.65:
        cell.value = (value - date(1899, 12, 30)).days  # the serial, in a cell formatted General
    else:
        cell.value = r.choice(
            (
                f"{value.year}/{value.month}/{value.day}",
                f"{value.year}年{value.month}月{value.day}日",
                f"{value:%Y.%m.%d}",
                f"{value:%Y-%m-%d} ",
                f"{value:%Y%m%d}",
            )
        )


def _render_datetime(cell: Any, value: datetime, roll: float, r: Any) -> None:
    """A time of day as staff type it: a date-time cell, or text in one of the usual local spellings."""
    if roll < 0.6:
        cell.value = value
        cell.number_format = r.choice(("yyyy/m/d h:mm", "yyyy-mm-dd hh:mm", 'yyyy"年"m"月"d"日" h"时"mm"分"'))
    else:
        cell.value = r.choice(
            (
                f"{value.year}/{value.month}/{value.day} {value.hour}:{value.minute:02d}",
                f"{value.year}年{value.month}月{value.day}日{value.hour}时{value.minute:02d}分",
                f"{value:%Y-%m-%d %H:%M}",
            )
        )


def _notes(ws: Any, row: int, seed: int, version: int, day: date, out: Written) -> None:
    clerk, phone = person_name(seed, "clerk", version), mobile(seed, "clerk", version)
    out.personal.update((clerk, phone))
    ws.cell(row, 1, "填报单位：海城市应急管理局（盖章）")
    ws.cell(row + 1, 1, f"填报人：{clerk}　　联系电话：{phone}")
    ws.cell(row + 2, 1, f"填报日期：{day.year}年{day.month}月{day.day}日")


def _save_atomically(book: Workbook, path: Path, saved_at: datetime) -> None:
    """Staff's upload appears whole: written beside the target (hidden name), then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    book.save(buffer)
    data = _stable(buffer.getvalue(), saved_at)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".xlsx")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stable(xlsx: bytes, saved_at: datetime) -> bytes:
    """The same workbook gives the same bytes: zip entry times and the document's dates are the save time.

    (openpyxl stamps "now" into both, which would make every run's workbook, and its sha256, different.)
    """
    stamp = saved_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    when = saved_at.astimezone(UTC).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    return out.getvalue()
