"""Reading one police drop file: its ``.ok`` marker, GB18030 CSV, rows to records.

A file is checked whole before any row of it is used (police.md): the marker's
``rows=`` and ``md5=`` must agree with the bytes, the bytes must decode as
GB18030 and parse as CSV; otherwise :class:`FileRejected` names the reason and
nothing of the file is read.

Personal information is pseudonymised here, while the row is turned into a
record, so no clear value ever reaches a Page (landing, quarantine, logs):
each personal column becomes ``<prefix>_pseudonym`` (keyed HMAC, links the same
person or phone across records) and ``<prefix>_masked`` (张*, 138****5678).

A citizen ID (报警人证件号码) is validated first (GB 11643-1999: length, check
character, birth date, county code; ``connectors.pii.citizen_id_problem``) and
``<prefix>_status`` says ``valid`` or why not (``wrong_length``, ``bad_format``,
``bad_check_digit``, ``bad_birth_date``, ``unknown_region``). An invalid number
gives neither pseudonym nor mask (NULL): a typo hashed would be a separate,
false person. The record still loads; :func:`id_flags` names it (file, row,
field, reason) for the connector's log and the raw suite's ``caller_id_valid``
rule, never with the value.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from connectors.files import refused_record
from connectors.pii import (
    CITIZEN_ID_VALID,
    Pseudonymizer,
    citizen_id_problem,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_plate,
)
from connectors.police.codes import LAT_RANGE, LON_RANGE, in_range
from edp.errors import DataRejected

FILE_NAME = re.compile(r"^(JJXX|JTSG|ZDDW)_(\d{8})\.csv$")
MARKER_SUFFIX = ".ok"
ENCODING = "gb18030"

# Chinese header → record key, per file kind; personal columns are listed apart.
COLUMNS: dict[str, dict[str, str]] = {
    "JJXX": {
        "接警编号": "alarm_id",
        "接警时间": "received_at",
        "报警方式": "report_channel",
        "事发地址": "address",
        "所属辖区代码": "division_code",
        "经度": "lon",
        "纬度": "lat",
        "警情类别代码": "category_code",
        "警情类别名称": "category_name",
        "简要警情": "summary",
        "处警单位": "dispatch_unit",
        "派警时间": "dispatched_at",
        "到场时间": "arrived_at",
        "处置结果": "outcome",
        "反馈时间": "feedback_at",
    },
    "JTSG": {
        "事故编号": "accident_id",
        "事故时间": "occurred_at",
        "事故地点": "location",
        "所属辖区代码": "division_code",
        "经度": "lon",
        "纬度": "lat",
        "道路编号": "road_code",
        "事故形态": "accident_type",
        "死亡人数": "deaths",
        "受伤人数": "injuries",
        "涉及危险货物车辆": "hazmat",
        "天气": "weather",
        "路面状况": "road_surface",
    },
    "ZDDW": {
        "单位名称": "unit_name",
        "统一社会信用代码": "credit_code",
        "许可类型": "license_type",
        "许可证号": "license_no",
        "有效期至": "valid_until",
        "地址": "address",
        "所属辖区代码": "division_code",
    },
}


@dataclass(frozen=True)
class Personal:
    """A personal column: output prefix, pseudonym namespace and display mask."""

    prefix: str
    kind: str
    mask: Callable[[object], str | None]
    # (value, the file's day) → None when valid, else a reason code; checked before pseudonymising.
    check: Callable[[object, date], str | None] | None = None


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _citizen_id_check(value: object, day: date) -> str | None:
    return citizen_id_problem(value, issued_by=day)


PERSONAL: dict[str, dict[str, Personal]] = {
    "JJXX": {
        "报警人姓名": Personal("caller_name", "person_name", mask_name),
        "报警人联系电话": Personal("caller_phone", "phone", mask_phone),
        "报警人证件号码": Personal("caller_id", "citizen_id", mask_id_number, _citizen_id_check),
    },
    "JTSG": {},  # 车牌号 depends on 涉及危险货物车辆: see _plates()
    "ZDDW": {
        "负责人": Personal("principal", "person_name", mask_name),
        "负责人联系电话": Personal("principal_phone", "phone", mask_phone),
    },
}
PLATE_COLUMN = "车牌号"
HAZMAT_COLUMN = "涉及危险货物车辆"
_PLATE_SPLIT = re.compile(r"[、,，;；/\s]+")
# Values of columns nobody declared are pseudonymised too: a new column may well be personal.
UNKNOWN_COLUMN_KIND = "unknown_column"


class FileRejected(DataRejected, ValueError):
    """The file is refused whole; ``reason`` never quotes the file's content; ``field``: the column at fault."""

    def __init__(self, name: str, reason: str, field: str | None = None) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason
        self.field = field


class Problem(dict[str, Any]):
    """A record standing for what could not be read (a rejected file, a broken row).

    It holds only declared keys and no content of the source, so it is safe to
    land and quarantine; ``Source.normalise`` turns it into a FieldError with
    ``field`` and ``reason``.
    """

    def __init__(self, content: dict[str, Any], field: str, reason: str) -> None:
        super().__init__(content)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Marker:
    rows: int
    md5: str


@dataclass
class CsvFile:
    name: str
    kind: str
    day: date
    md5: str
    header: list[str]
    # (data row number from 1, header excluded; the row's fields)
    rows: list[tuple[int, list[str]]]


def file_day(name: str) -> tuple[str, date] | None:
    """``JJXX_20261128.csv`` → ("JJXX", 2026-11-28); None for anything else."""
    match = FILE_NAME.match(name)
    if not match:
        return None
    try:
        day = date(int(match.group(2)[:4]), int(match.group(2)[4:6]), int(match.group(2)[6:]))
    except ValueError:
        return None
    return match.group(1), day


def parse_marker(name: str, data: bytes) -> Marker:
    """The two lines ``rows=<n>`` and ``md5=<hex>`` (any order, CRLF or LF)."""
    values: dict[str, str] = {}
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise FileRejected(name, "marker unreadable: not ASCII") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            key, sep, value = line.strip().partition("=")
            if not sep:
                # The line itself is not quoted: a misplaced file could put anything there.
                raise FileRejected(name, f"marker unreadable: line {number} is not key=value")
            values[key.strip().lower()] = value.strip()
    rows, md5 = values.get("rows", ""), values.get("md5", "").lower()
    if not rows.isdigit() or not re.fullmatch(r"[0-9a-f]{32}", md5):
        raise FileRejected(name, "marker unreadable: expected the two lines rows=<n> and md5=<32 hex digits>")
    return Marker(int(rows), md5)


def read_file(name: str, data: bytes, marker_bytes: bytes, max_records: int | None = None) -> CsvFile:
    """Check ``data`` against its marker and parse it, or raise FileRejected.

    ``max_records``: more data rows than that (``limits.max_file_records``) refuse the file.
    """
    kind_day = file_day(name)
    if kind_day is None:
        raise FileRejected(name, "not a JJXX_/JTSG_/ZDDW_YYYYMMDD.csv file name")
    marker = parse_marker(name, marker_bytes)
    md5 = hashlib.md5(data).hexdigest()
    if md5 != marker.md5:
        raise FileRejected(name, f"md5 mismatch: marker says {marker.md5}, file is {md5}")
    try:
        text = data.decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise FileRejected(name, f"not GB18030: undecodable bytes at offset {exc.start}") from None
    if max_records is not None and marker.rows > max_records:
        limit = f"the limit max_file_records={max_records}"
        raise FileRejected(name, f"refused: marker says {marker.rows} rows, more than {limit}")
    table: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), strict=True):
            if row:
                table.append(row)
            if max_records is not None and len(table) > max_records + 1:
                raise FileRejected(name, f"refused: more than the limit max_file_records={max_records} data rows")
    except csv.Error as exc:
        # csv's message names the line; the field size limit (128 KiB) bounds one huge field.
        raise FileRejected(name, f"CSV unreadable: {exc}") from None
    if not table:
        raise FileRejected(name, "empty file: no header row")
    header = [h.strip().lstrip("\ufeff").strip() for h in table[0]]
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise FileRejected(name, f"repeated column(s) {', '.join(repeated)} in the header", repeated[0])
    rows = list(enumerate(table[1:], start=1))
    if len(rows) != marker.rows:
        raise FileRejected(name, f"row count mismatch: marker says {marker.rows} rows, file has {len(rows)}")
    return CsvFile(name, kind_day[0], kind_day[1], md5, header, rows)


def fix_coordinates(lon_raw: str | None, lat_raw: str | None) -> tuple[Any, Any, str]:
    """(lon, lat, coord_status) with status ok | swapped | missing | out_of_area | invalid.

    Empty or 0 means the bureau had no position: both NULL, ``missing``. A pair
    whose latitude lies in the county's longitude range and vice versa was
    exported swapped and is swapped back. Text that is not a number is left as
    it is, so typing quarantines the row naming the field.
    """
    lon_s, lat_s = (lon_raw or "").strip(), (lat_raw or "").strip()
    if not lon_s or not lat_s:
        return None, None, "missing"
    try:
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        return lon_s, lat_s, "invalid"
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return lon_s, lat_s, "invalid"
    if lon == 0 or lat == 0:
        return None, None, "missing"
    if in_range(lon, LON_RANGE) and in_range(lat, LAT_RANGE):
        return lon, lat, "ok"
    if in_range(lat, LON_RANGE) and in_range(lon, LAT_RANGE):
        return lat, lon, "swapped"
    # Kept, flagged: a point just outside the box may still be right; maps can filter.
    return lon, lat, "out_of_area"


def _plates(pseudo: Pseudonymizer, raw: dict[str, str | None]) -> dict[str, Any]:
    """车牌号: pseudonym and mask always; clear only for a single hazmat vehicle.

    A vehicle carrying dangerous goods is traced by its plate (the carrier's
    permit, the load), so police.md exempts it from minimisation. If one
    accident lists several plates we cannot tell which one carries the goods,
    so none of them is kept in clear.
    """
    text = (raw.get(PLATE_COLUMN) or "").strip()
    plates = [p for p in _PLATE_SPLIT.split(text) if p]
    hazmat = (raw.get(HAZMAT_COLUMN) or "").strip() == "是"
    return {
        "plate_pseudonym": ";".join(filter(None, (pseudo.pseudonym("plate", p) for p in plates))) or None,
        "plate_masked": ";".join(filter(None, (mask_plate(p) for p in plates))) or None,
        "hazmat_plate": plates[0].upper() if hazmat and len(plates) == 1 else None,
    }


# Free text written by call-takers sometimes repeats a phone or ID number ("回拨13812345678").
_FREE_TEXT = {"JJXX": ("summary", "outcome", "address"), "JTSG": ("location",), "ZDDW": ("address",)}
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_LANDLINE_IN_TEXT = re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


def scrub_text(text: str | None) -> str | None:
    """Mask citizen IDs and phone numbers inside free text (names cannot be found reliably)."""
    if not text:
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()) or "", text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group()) or "", text)
    return _LANDLINE_IN_TEXT.sub(lambda m: mask_phone(m.group()) or "", text)


def _date_text(value: str | None) -> str | None:
    """有效期至 comes as 2027-06-30, 2027/06/30 or 20270630."""
    if value and re.fullmatch(r"\d{8}", value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def row_record(
    f: CsvFile, number: int, fields: list[str], pseudo: Pseudonymizer, required: tuple[str, ...]
) -> dict[str, Any]:
    """One data row as a record with personal values already pseudonymised."""
    base = {"report_date": f.day.isoformat(), "source_file": f.name, "source_row": number}
    if len(fields) != len(f.header):
        # Shifted columns: any cell may hold a phone or a name, so nothing of the row is kept.
        reason = f"{f.name} data row {number}: {len(fields)} fields, the header has {len(f.header)}"
        return Problem({**{k: None for k in required}, **base}, "source_row", reason)
    raw = {h: (v.strip() or None) for h, v in zip(f.header, fields, strict=True)}
    columns, personal = COLUMNS[f.kind], PERSONAL[f.kind]
    record: dict[str, Any] = dict(base)
    for header, value in raw.items():
        if header in columns:
            record[columns[header]] = value
        elif header in personal:
            p = personal[header]
            clear = _digits(value) if value and p.kind == "phone" else value
            problem = p.check(value, f.day) if p.check is not None and value else None
            if p.check is not None:
                record[f"{p.prefix}_status"] = problem or (CITIZEN_ID_VALID if value else None)
            # Nothing is derived from an invalid value: no pseudonym (a false person), no mask.
            record[f"{p.prefix}_pseudonym"] = None if problem else pseudo.pseudonym(p.kind, clear)
            record[f"{p.prefix}_masked"] = None if problem else p.mask(value)
        elif header == PLATE_COLUMN and f.kind == "JTSG":
            record.update(_plates(pseudo, raw))
        else:
            record[header] = pseudo.pseudonym(UNKNOWN_COLUMN_KIND, value)
    if "lon" in record or "lat" in record:
        record["lon"], record["lat"], record["coord_status"] = fix_coordinates(record.get("lon"), record.get("lat"))
    for key in _FREE_TEXT[f.kind]:
        if key in record:
            record[key] = scrub_text(record[key])
    if "valid_until" in record:
        record["valid_until"] = _date_text(record["valid_until"])
    return record


def id_flags(kind: str, record: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(source header, status column, reason) for each personal value of ``record`` that failed its check."""
    return [
        (header, f"{p.prefix}_status", record[f"{p.prefix}_status"])
        for header, p in PERSONAL[kind].items()
        if p.check is not None and record.get(f"{p.prefix}_status") not in (None, CITIZEN_ID_VALID)
    ]


def missing_columns(kind: str, header: list[str], required: tuple[str, ...]) -> list[str]:
    """The headers of ``kind`` that feed a required field and are not in ``header``."""
    present = set(header)
    return [h for h, key in COLUMNS[kind].items() if key in required and h not in present]


def rejection_record(
    name: str, day: date, reason: str, required: tuple[str, ...], meta: dict[str, Any], locator: str, field: str | None
) -> dict[str, Any]:
    """One content-free record for a file refused whole (``connectors.files.refused_record``)."""
    content = {**{k: None for k in required}, "report_date": day.isoformat(), "source_file": name}
    why = f"file rejected whole: {reason}; nothing of {name} is loaded until the bureau re-sends it"
    # field: the column at fault, else the record's file name field (the whole file is at fault).
    return refused_record(content, meta, why, field=field or "source_file", locator=locator)
