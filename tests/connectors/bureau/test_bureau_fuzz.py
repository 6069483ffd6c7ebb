"""Property: generated hostile workbooks never break the connector, and their good rows still load.

Given an inbox holding a good register and a generated hostile one (wrong
types, formulas, Excel errors, huge text, merged cells, a lying or huge
dimension, a cut-off sheet or zip), when the connector reads the inbox and the
shared typing quarantines what it refuses, then no exception escapes, every
record is loaded or quarantined with a reason and a field, a refused workbook
is one entry named after the file, and the good rows load whenever the
workbook as a whole is readable.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from connectors.bureau.registers import BY_DATASET
from connectors.bureau.source import BureauSource
from connectors.files import REFUSED
from edp.ingest.extract import _Typed, type_page

KEY = b"fuzz-test-key-0123456789abcdef01"
UNTIL = datetime(2030, 1, 1, tzinfo=UTC)
REG = BY_DATASET["division_facts"]
HEADERS = [c.header for c in REG.columns]
TEAMS = BY_DATASET["rescue_teams"]

CELL = st.one_of(
    st.none(),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=True, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=15),
    st.booleans(),
    st.sampled_from(["=A1+1", "=SUM(C1:C3)", "#REF!", "#N/A", "=cmd|' /C calc'!A0", "@SUM(1)", "２０２６年３月５日"]),
    st.just("长" * 3000),
)
ROW = st.one_of(
    st.integers(min_value=0, max_value=999).map(lambda n: ("good", n)),
    st.lists(CELL, min_size=1, max_size=8).map(lambda r: ("hostile", r)),
)
FAULT = st.sampled_from(["none", "none", "merged", "dimension_small", "dimension_huge", "corrupt_sheet", "truncated"])


def good_row(n: int) -> list[object]:
    return [f"210381{n:06d}", f"镇{n}", 1000 + n, 12.5, 122.7, 40.8]


def build(rows: list[tuple[str, object]], fault: str) -> tuple[bytes, set[str]]:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["辖区基础信息"])
    ws.append([])
    ws.append(HEADERS)
    good: set[str] = set()
    for i, (kind, payload) in enumerate(rows):
        if kind == "good":
            row = good_row(1000 * i + int(payload))  # type: ignore[call-overload]
            good.add(str(row[0]))
        else:
            row = list(payload)  # type: ignore[call-overload]
        ws.append(row)
        if fault == "merged" and kind == "hostile":
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=3)
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    if fault in ("dimension_small", "dimension_huge", "corrupt_sheet"):
        src = zipfile.ZipFile(io.BytesIO(data))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                body = src.read(info.filename)
                if info.filename == "xl/worksheets/sheet1.xml":
                    if fault == "corrupt_sheet":
                        body = body[: len(body) * 3 // 4]
                    else:
                        ref = b"A1:B2" if fault == "dimension_small" else b"A1:XFD1048576"
                        body = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + ref + b'"', body)
                dst.writestr(info.filename, body)
        data = buf.getvalue()
    if fault == "truncated":
        data = data[: len(data) * 2 // 3]
    return data, good


def team_workbook() -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append([c.header for c in TEAMS.columns])
    ws.append(["DW1", "队", "社会应急力量", 5, "车", "驻地", "210381001000", 122.7, 40.8, "张三", "13800000000"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(rows=st.lists(ROW, max_size=10), fault=FAULT)
def test_hostile_workbooks_are_loaded_or_quarantined_never_crash(rows: list[tuple[str, object]], fault: str) -> None:
    data, good = build(rows, fault)
    with tempfile.TemporaryDirectory() as folder:
        inbox = Path(folder)
        (inbox / "辖区基础信息.xlsx").write_bytes(data)
        (inbox / "救援队伍台账.xlsx").write_bytes(team_workbook())
        src = BureauSource(inbox, KEY)
        typed = _Typed()
        for number, page in enumerate(src.read("division_facts", None, UNTIL)):
            type_page(src, src.datasets()["division_facts"], page, f"landing/page-{number}", typed)
        teams = _Typed()
        for page in src.read("rescue_teams", None, UNTIL):
            type_page(src, src.datasets()["rescue_teams"], page, "landing/teams", teams)
    assert len(teams.rows) == 1 and not teams.quarantined  # the other register is untouched
    assert len(typed.rows) + len(typed.quarantined) + typed.duplicates == typed.source_rows
    assert all(q["reason"] and "field" in q for q in typed.quarantined)
    refused = [q for q in typed.quarantined if REFUSED in q["record"]]
    if refused:
        (entry,) = refused
        assert entry["locator"].endswith("辖区基础信息.xlsx") and "辖区基础信息.xlsx" in entry["reason"]
        assert fault in ("dimension_huge", "corrupt_sheet", "truncated") or not rows
    else:
        assert fault not in ("dimension_huge", "truncated")
        loaded = {r["division_code"] for r in typed.rows.values()}
        assert good <= loaded
        for q in typed.quarantined:
            assert q["field"] and q["record"]["row_number"] >= 4
