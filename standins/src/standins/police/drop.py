"""The bureau's export job: writes a day's JJXX_/JTSG_/ZDDW_ files and their ``.ok`` markers.

As police.md says: GB18030, Chinese header, CRLF, ``"``-quoting only where a
field holds a comma, quote or line break; the data file is written first
(atomically, via a temporary name the connector ignores) and its marker
``rows=<n>`` / ``md5=<hex>`` last. Fault switches break exactly one of those
promises each; see :class:`PoliceFaults`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from standins.common.determinism import rng, unit
from standins.common.faults import FaultSwitches
from standins.common.timefmt import CST
from standins.police import accidents, alarms, units
from standins.police.rows import Row

PROGRESS_EVERY = 5.0  # seconds between progress lines of a long populate()

KINDS = ("JJXX", "JTSG", "ZDDW")
ENCODING = "gb18030"
_GENERATORS: dict[str, tuple[tuple[str, ...], Callable[[int, float, date, int], list[Row]]]] = {
    "JJXX": (alarms.HEADER, alarms.day_alarms),
    "JTSG": (accidents.HEADER, accidents.day_accidents),
    "ZDDW": (units.HEADER, units.day_units),
}
_TIME_COLUMN = {"JJXX": "接警时间", "JTSG": "事故时间", "ZDDW": "有效期至"}
_BAD_TIMES = ("2026-11-31 25:61:00", "昨天下午", "2026年11月28日", "28/11/2026 13:05")
_BAD_DIVISIONS = ("210381999000", "21038110", "210302004000")
_BAD_COORDINATES = ("东经122.7", "122.7.35", "N/A")
MALFORMATIONS = ("bad_time", "unknown_division", "bad_coordinate")
_NAME = re.compile(r"^(JJXX|JTSG|ZDDW)_(\d{8})\.csv$")


@dataclass
class PoliceFaults(FaultSwitches):
    """What can go wrong with a drop (all off by default)."""

    # Data files are written but their .ok marker is not (the export job has not finished).
    missing_marker: bool = False
    # The marker's md5 is not the file's (a truncated copy, a file changed after its marker).
    bad_marker_md5: bool = False
    # The marker's rows= is one more than the file's data rows.
    bad_marker_rows: bool = False
    # Share of rows with a bad time, a division code not of 海城市, or an unparsable coordinate.
    malformed_rate: float = 0.0
    # Share of rows exported twice.
    duplicate_rate: float = 0.0
    # Share of (day, kind) files that ``populate`` holds back (deliver them later with ``drop_day``).
    late_rate: float = 0.0


def file_name(kind: str, day: date) -> str:
    return f"{kind}_{day:%Y%m%d}.csv"


def encode_csv(header: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(ENCODING)


def marker_bytes(data: bytes, rows: int) -> bytes:
    return f"rows={rows}\r\nmd5={hashlib.md5(data).hexdigest()}\r\n".encode("ascii")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_marker(drop_dir: Path | str, name: str) -> Path:
    """Write the (correct) marker of a data file already in the drop: the export job finishing late."""
    path = Path(drop_dir) / name
    data = path.read_bytes()
    rows = sum(1 for row in csv.reader(io.StringIO(data.decode(ENCODING), newline="")) if row) - 1
    marker = path.with_name(name + ".ok")
    _write_atomic(marker, marker_bytes(data, rows))
    return marker


def _malform(kind: str, row: Row, how: str, pick: int) -> str:
    if how == "bad_coordinate" and kind != "ZDDW":
        row.cells["经度"] = _BAD_COORDINATES[pick % len(_BAD_COORDINATES)]
        return how
    if how == "bad_time":
        row.cells[_TIME_COLUMN[kind]] = _BAD_TIMES[pick % len(_BAD_TIMES)] if kind != "ZDDW" else "2027-13-45"
        return how
    bad = _BAD_DIVISIONS[pick % len(_BAD_DIVISIONS)]
    row.cells["所属辖区代码"] = bad
    row.division_code = bad
    return "unknown_division"


def _damage(
    kind: str, rows: list[Row], seed: int, day: date, version: int, faults: PoliceFaults
) -> tuple[list[Row], dict[str, str], list[str]]:
    """Rows as exported: some malformed, some written twice (right after themselves)."""
    malformed: dict[str, str] = {}
    duplicated: list[str] = []
    out: list[Row] = []
    for row in rows:
        ident = (kind, day.isoformat(), version, row.key)
        if faults.malformed_rate and unit(seed, "police-malformed", *ident) < faults.malformed_rate:
            r = rng(seed, "police-malformed-how", *ident)
            malformed[row.key] = _malform(kind, row, r.choice(MALFORMATIONS), r.randrange(12))
        out.append(row)
        if faults.duplicate_rate and unit(seed, "police-duplicate", *ident) < faults.duplicate_rate:
            out.append(row)
            duplicated.append(row.key)
    return out, malformed, duplicated


def _write_file(drop: Path, name: str, header: tuple[str, ...], rows: list[Row], faults: PoliceFaults) -> str:
    data = encode_csv(header, ([row.cells[h] for h in header] for row in rows))
    _write_atomic(drop / name, data)
    if faults.missing_marker:
        (drop / f"{name}.ok").unlink(missing_ok=True)  # a re-sent file's old marker goes with it
        return "missing"
    count, status = len(rows), "ok"
    if faults.bad_marker_rows:
        count, status = count + 1, "bad_rows"
    marker = marker_bytes(data, count)
    if faults.bad_marker_md5:
        marker = marker_bytes(data + b"\r\n", count)
        status = "bad_md5" if status == "ok" else status + "+bad_md5"
    _write_atomic(drop / f"{name}.ok", marker)
    return status


def drop_day(
    drop_dir: Path | str,
    day: date,
    *,
    seed: int = 42,
    scale: float = 1.0,
    version: int = 0,
    kinds: Iterable[str] = KINDS,
    faults: PoliceFaults | None = None,
) -> dict[str, Any]:
    """Write ``day``'s files (version 0: the first export; > 0: a re-sent, corrected one).

    Returns what tests need: file names, marker status, rows written, the
    emergency alarm ids, the other alarms' distinct counts per
    ``"<category>|<division>"``, malformed and duplicated keys, and every clear
    personal value written (``pii_values``) and the hazmat plates (allowed in clear).
    """
    faults = faults or PoliceFaults()
    drop = Path(drop_dir)
    drop.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {
        "day": day.isoformat(),
        "version": version,
        "files": [],
        "markers": {},
        "rows": {},
        "keys": {},
        "emergency_ids": [],
        "non_emergency_counts": {},
        "malformed": {},
        "duplicated": {},
        "pii_values": [],
        "hazmat_plates": [],
    }
    for kind in kinds:
        header, generate = _GENERATORS[kind]
        rows, malformed, duplicated = _damage(kind, generate(seed, scale, day, version), seed, day, version, faults)
        name = file_name(kind, day)
        info["markers"][name] = _write_file(drop, name, header, rows, faults)
        info["files"].append(name)
        info["rows"][name] = len(rows)
        unique = list({row.key: row for row in rows}.values())
        info["keys"][name] = [row.key for row in unique]
        info["malformed"][name] = malformed
        info["duplicated"][name] = duplicated
        info["pii_values"].extend(v for row in unique for v in row.pii)
        info["hazmat_plates"].extend(row.hazmat_plate for row in unique if row.hazmat_plate)
        if kind == "JJXX":
            info["emergency_ids"] = [row.key for row in unique if row.emergency]
            counts = Counter(f"{row.category_code}|{row.division_code}" for row in unique if not row.emergency)
            info["non_emergency_counts"] = dict(sorted(counts.items()))
    info["pii_values"] = sorted(set(info["pii_values"]))
    return info


def resend_day(
    drop_dir: Path | str,
    day: date,
    *,
    seed: int = 42,
    scale: float = 1.0,
    version: int = 1,
    kinds: Iterable[str] = KINDS,
    faults: PoliceFaults | None = None,
) -> dict[str, Any]:
    """The bureau re-sends ``day``: same names, corrected content (new md5), new markers."""
    if version < 1:
        raise ValueError("a re-sent file has version >= 1")
    return drop_day(drop_dir, day, seed=seed, scale=scale, version=version, kinds=kinds, faults=faults)


def yesterday() -> date:
    return datetime.now(CST).date() - timedelta(days=1)


def populate(
    drop_dir: Path | str,
    *,
    seed: int = 42,
    scale: float = 1.0,
    days: int = 3,
    end_date: date | None = None,
    faults: PoliceFaults | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Fill ``drop_dir`` with ``days`` days of exports ending ``end_date`` (default: yesterday, CST).

    ``progress`` hears how far a long fill has got, at most every few seconds.

    With ``faults.late_rate`` some files are held back (``held_back``: [day, kind]);
    deliver them later with ``drop_day(drop_dir, day, kinds=[kind])``.
    """
    faults = faults or PoliceFaults()
    end = end_date or yesterday()
    result: dict[str, Any] = {
        "drop_dir": str(drop_dir),
        "days": [],
        "files": [],
        "held_back": [],
        "pii_values": set(),
        "hazmat_plates": set(),
        "per_day": {},
    }
    reported = time.monotonic()
    for offset in range(days - 1, -1, -1):
        day = end - timedelta(days=offset)
        if progress and time.monotonic() - reported > PROGRESS_EVERY:
            progress(f"police: exports up to {day.isoformat()}, {days - 1 - offset} of {days} days")
            reported = time.monotonic()
        kinds = [k for k in KINDS if unit(seed, "police-late", k, day.isoformat()) >= faults.late_rate]
        result["held_back"].extend([day.isoformat(), k] for k in KINDS if k not in kinds)
        info = drop_day(drop_dir, day, seed=seed, scale=scale, kinds=kinds, faults=faults)
        result["days"].append(day.isoformat())
        result["files"].extend(info["files"])
        result["pii_values"].update(info["pii_values"])
        result["hazmat_plates"].update(info["hazmat_plates"])
        result["per_day"][day.isoformat()] = info
    result["pii_values"] = sorted(result["pii_values"])
    result["hazmat_plates"] = sorted(result["hazmat_plates"])
    return result


def dropped_days(drop_dir: Path | str) -> list[date]:
    found = {m.group(2) for p in Path(drop_dir).glob("*.csv") if (m := _NAME.match(p.name))}
    return sorted(date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in found)


def drop_next_day(
    drop_dir: Path | str, *, seed: int = 42, scale: float = 1.0, faults: PoliceFaults | None = None
) -> dict[str, Any]:
    """Advance the export by one day: the day after the latest in the drop (or yesterday)."""
    days = dropped_days(drop_dir)
    day = days[-1] + timedelta(days=1) if days else yesterday()
    return drop_day(drop_dir, day, seed=seed, scale=scale, faults=faults)
