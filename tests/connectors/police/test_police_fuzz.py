"""Property: hostile GB18030 CSV drops never break the connector, and what is good in them still loads.

Given a drop holding a good file of one day and a generated hostile file of the
next (bad bytes, missing or extra columns, quotes, line breaks, huge fields,
formula-like text, short and long rows, a wrong marker), when the connector
reads the drop and the shared typing quarantines what it refuses, then no
exception escapes, every record is either loaded or quarantined with a reason
and a field, a refused file is one entry named after it, and the good file's
rows and the hostile file's good rows (when the file as a whole is readable)
all load.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standins.police.drop import encode_csv, marker_bytes

from connectors.files import REFUSED, Entry, FileRefused, too_large
from connectors.limits import Limits
from connectors.pii import Pseudonymizer
from connectors.police.parse import COLUMNS, ENCODING
from connectors.police.source import PoliceSource
from edp.ingest.extract import _Typed, type_page

DAY = date(2026, 11, 28)
UNTIL = datetime(2026, 11, 29, 2, 0, tzinfo=timezone(timedelta(hours=8)))
HEADER = [*COLUMNS["JTSG"], "车牌号"]
GOOD_NAME, HOSTILE_NAME = "JTSG_20261127.csv", "JTSG_20261128.csv"


class MemoryDrop:
    """The drop folder's contract (``connectors.police.drop.Drop``) over a dict: fuzzing the parsing, not the disk."""

    uri = "memory://drop"

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def entries(self) -> list[Entry]:
        return [Entry(n, "file", len(b), 0) for n, b in sorted(self.files.items())]

    def read(self, name: str, max_bytes: int) -> bytes:
        data = self.files[name]
        if len(data) > max_bytes:
            raise FileRefused(name, too_large(len(data), max_bytes))
        return data


def good_row(n: int, day: date) -> list[str]:
    values = {
        "事故编号": f"SG{day:%Y%m%d}{n:05d}",
        "事故时间": f"{day} 13:05:22" if n % 2 else f"{day:%Y/%m/%d} 08:{n % 60:02d}",
        "事故地点": "海城市海州街道中街",
        "所属辖区代码": "210381001000",
        "经度": "122.75",
        "纬度": "40.85",
        "道路编号": "G1",
        "事故形态": "追尾",
        "死亡人数": "0",
        "受伤人数": str(n % 3),
        "涉及危险货物车辆": "否",
        "天气": "晴",
        "路面状况": "干燥",
        "车牌号": "辽C12345",
    }
    return [values[h] for h in HEADER]


HOSTILE_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "=cmd|' /C calc'!A0",
            "@SUM(1+1)",
            '+HYPERLINK("http://x","y")',
            '"quoted", with comma',
            "line\r\nbreak",
            "2026-02-30 25:61",
            "NaN",
            "1e309",
            "",
            "０３０１",
        ]
    ),
    st.just("长" * 5000),
    st.just("x" * 140_000),  # beyond csv's 128 KiB field limit: the file is refused whole
)
ROW = st.one_of(
    st.integers(min_value=1, max_value=9999).map(lambda n: ("good", n)),
    st.lists(HOSTILE_TEXT, min_size=len(HEADER) - 2, max_size=len(HEADER) + 2).map(lambda r: ("hostile", r)),
)
FILE_FAULT = st.sampled_from(["none", "none", "drop_column", "extra_column", "bad_bytes", "bad_marker"])


def hostile_file(rows: list[tuple[str, object]], fault: str, drop_at: int) -> tuple[bytes, bytes, set[str]]:
    header = list(HEADER)
    table: list[list[str]] = []
    good_ids: set[str] = set()
    for i, (kind, payload) in enumerate(rows):
        if kind == "good":
            row = good_row(i + 1, DAY)
            good_ids.add(row[0])
        else:
            row = [str(v) for v in payload]  # type: ignore[union-attr]
        table.append(row)
    if fault == "drop_column":
        gone = drop_at % len(header)
        header.pop(gone)
        table = [[v for j, v in enumerate(r) if j != gone] for r in table]
    if fault == "extra_column":
        header.append("备注")
        table = [[*r, "=1+1"] for r in table]
    data = encode_csv(header, table)
    if fault == "bad_bytes":
        cut = drop_at % max(len(data), 1)
        data = data[:cut] + b"\xff\xfe" + data[cut:]
    marker = marker_bytes(data, len(table))
    if fault == "bad_marker":
        marker = marker_bytes(data + b"x", len(table))
    return data, marker, good_ids


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
@given(rows=st.lists(ROW, max_size=12), fault=FILE_FAULT, drop_at=st.integers(min_value=0, max_value=10_000))
def test_hostile_csv_drops_are_loaded_or_quarantined_never_crash(
    rows: list[tuple[str, object]], fault: str, drop_at: int
) -> None:
    good = encode_csv(HEADER, [good_row(n, DAY - timedelta(days=1)) for n in range(1, 4)])
    data, marker, good_ids = hostile_file(rows, fault, drop_at)
    files = {GOOD_NAME: good, f"{GOOD_NAME}.ok": marker_bytes(good, 3)}
    files |= {HOSTILE_NAME: data, f"{HOSTILE_NAME}.ok": marker}
    src = PoliceSource(MemoryDrop(files), Pseudonymizer(b"fuzz-key-0123456789abcdef012345"), limits=Limits())
    ds = src.datasets()["accidents"]
    typed = _Typed()
    pages = list(src.read("accidents", None, UNTIL))
    for number, page in enumerate(pages):
        type_page(src, ds, page, f"landing/page-{number}", typed)
    loaded = {(r["source_file"], r["accident_id"]) for r in typed.rows.values()}
    # the other day's file is untouched by the hostile one
    assert {(GOOD_NAME, good_row(n, DAY - timedelta(days=1))[0]) for n in range(1, 4)} <= loaded
    # every record is accounted for, every refusal has a reason and a field
    assert len(typed.rows) + len(typed.quarantined) + typed.duplicates == typed.source_rows
    assert all(q["reason"] and q["field"] for q in typed.quarantined)
    refused = [q for q in typed.quarantined if REFUSED in q["record"]]
    if refused:
        (entry,) = refused
        assert entry["locator"] == f"memory://drop/{HOSTILE_NAME}"
        assert entry["record"][REFUSED]["sha256"] == hashlib.sha256(data).hexdigest()
        assert fault != "none" or "x" * 140_000 in data.decode(ENCODING)
    else:
        optional_gone = fault == "drop_column" and HEADER[drop_at % len(HEADER)] not in (
            "事故编号",
            "事故时间",
            "所属辖区代码",
        )
        assert fault in ("none", "extra_column") or optional_gone
        assert {(HOSTILE_NAME, i) for i in good_ids} <= loaded
        for q in typed.quarantined:
            assert q["record"]["source_file"] == HOSTILE_NAME and q["record"]["source_row"] >= 1
    # the refused file is remembered: reading again with the cursor yields nothing
    assert list(src.read("accidents", pages[-1].cursor, UNTIL)) == []
