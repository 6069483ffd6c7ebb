"""The police drop folder is not trusted: links, special files, oversize and incomplete files are refused whole.

Given a drop folder holding good files and one bad entry, when the connector
reads it, then the bad entry becomes one quarantine entry naming the file and
the reason (never followed, never opened when lstat already refuses it), the
good files still load, and an unchanged bad entry is not reported again.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from standins.police import drop_day
from standins.police.drop import encode_csv, marker_bytes

from connectors.base import Page
from connectors.context import SourceContext
from connectors.files import REFUSED, FileRefused, list_entries, read_file
from connectors.limits import Limits
from connectors.police.source import PoliceSource, create
from edp.ingest.extract import _Typed, type_page

DAY = date(2026, 11, 28)
UNTIL = datetime(2026, 11, 29, 2, 0, tzinfo=timezone(timedelta(hours=8)))
KEY = b"drop-safety-key-0123456789abcdef"


def _source(drop: Path, limits: Limits | None = None) -> PoliceSource:
    return create(SourceContext(name="police", url=str(drop), pii_key=lambda: KEY, limits=limits or Limits()))


def _typed(src: PoliceSource, dataset: str, cursor: str | None = None) -> tuple[list[Page], _Typed]:
    pages = list(src.read(dataset, cursor, UNTIL))
    typed = _Typed()
    for number, page in enumerate(pages):
        type_page(src, src.datasets()[dataset], page, f"landing/page-{number}", typed)
    return pages, typed


def _rewrite(drop: Path, name: str, drop_column: str | None = None) -> None:
    """Rewrite a dropped file without one column, with a correct marker (the export job's own mistake)."""
    rows = list(csv.reader(io.StringIO((drop / name).read_bytes().decode("gb18030"), newline="")))
    keep = [i for i, h in enumerate(rows[0]) if h != drop_column]
    data = encode_csv([rows[0][i] for i in keep], [[r[i] for i in keep] for r in rows[1:] if r])
    (drop / name).write_bytes(data)
    (drop / f"{name}.ok").write_bytes(marker_bytes(data, len(rows) - 1))


def test_a_file_missing_a_required_column_is_quarantined_whole_and_the_other_days_load(tmp_path: Path) -> None:
    good = drop_day(tmp_path, DAY - timedelta(days=1), seed=5, scale=0.2, kinds=["JTSG"])
    drop_day(tmp_path, DAY, seed=5, scale=0.2, kinds=["JTSG"])
    _rewrite(tmp_path, "JTSG_20261128.csv", drop_column="事故时间")
    src = _source(tmp_path)
    pages, typed = _typed(src, "accidents")
    assert {r["accident_id"] for r in typed.rows.values()} == set(good["keys"]["JTSG_20261127.csv"])
    (entry,) = typed.quarantined
    assert entry["locator"] == f"{tmp_path}/JTSG_20261128.csv" and entry["field"] == "事故时间"
    assert "missing required column(s) 事故时间" in entry["reason"]
    meta = entry["record"][REFUSED]
    assert meta["file"] == "JTSG_20261128.csv" and meta["size"] > 0 and len(meta["sha256"]) == 64
    # unchanged: not read or reported again; corrected: read
    assert list(src.read("accidents", pages[-1].cursor, UNTIL)) == []
    drop_day(tmp_path, DAY, seed=5, scale=0.2, kinds=["JTSG"])
    (fixed,) = list(src.read("accidents", pages[-1].cursor, UNTIL))
    assert fixed.records and REFUSED not in fixed.records[0]


def _link_outside(tmp_path: Path) -> tuple[Path, str]:
    drop = tmp_path / "drop"
    drop.mkdir()
    secret = tmp_path / "outside.csv"
    secret.write_bytes("不该被读取的文件".encode("gb18030"))
    return drop, "不该被读取"


def test_a_symlink_out_of_the_drop_is_refused_never_followed(tmp_path: Path) -> None:
    drop, secret_text = _link_outside(tmp_path)
    drop_day(drop, DAY, seed=5, scale=0.2, kinds=["ZDDW"])
    os.replace(drop / "ZDDW_20261128.csv", tmp_path / "moved.csv")
    # the file itself a link out of the folder, its marker a link to the real marker's copy outside
    (drop / "ZDDW_20261128.csv").symlink_to(tmp_path / "outside.csv")
    src = _source(drop)
    pages, typed = _typed(src, "key_units")
    (entry,) = typed.quarantined
    assert "symbolic link" in entry["reason"] and entry["locator"].endswith("ZDDW_20261128.csv")
    assert entry["record"][REFUSED]["kind"] == "symlink"
    assert secret_text not in pages[0].body.decode() + json.dumps(typed.quarantined, ensure_ascii=False)
    with pytest.raises(FileRefused, match="symbolic link"):
        read_file(drop, "ZDDW_20261128.csv", 1 << 20)  # O_NOFOLLOW: a link swapped in later is refused too
    assert list(src.read("key_units", pages[-1].cursor, UNTIL)) == []


def test_a_linked_marker_or_a_pipe_or_a_directory_is_refused(tmp_path: Path) -> None:
    drop_day(tmp_path, DAY, seed=5, scale=0.2, kinds=["JJXX", "JTSG", "ZDDW"])
    marker = tmp_path / "JJXX_20261128.csv.ok"
    os.replace(marker, tmp_path / "elsewhere.ok")
    marker.symlink_to(tmp_path / "elsewhere.ok")
    os.remove(tmp_path / "JTSG_20261128.csv")
    os.mkfifo(tmp_path / "JTSG_20261128.csv")  # a reader opening it would wait forever
    os.remove(tmp_path / "ZDDW_20261128.csv")
    (tmp_path / "ZDDW_20261128.csv").mkdir()
    src = _source(tmp_path)
    reasons = {ds: _typed(src, ds)[1].quarantined[0]["reason"] for ds in ("alarms", "accidents", "key_units")}
    assert "its marker JJXX_20261128.csv.ok is refused: a symbolic link" in reasons["alarms"]
    assert "named pipe" in reasons["accidents"] and "a directory where a file is expected" in reasons["key_units"]
    kinds = {e.name: e.kind for e in list_entries(tmp_path)}
    assert kinds["JTSG_20261128.csv"] == "fifo" and kinds["JJXX_20261128.csv.ok"] == "symlink"


def test_a_file_over_the_size_or_record_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    info = drop_day(tmp_path, DAY, seed=5, scale=0.2, kinds=["JTSG", "ZDDW"])
    size = (tmp_path / "JTSG_20261128.csv").stat().st_size
    src = _source(tmp_path, Limits(max_file_bytes=size - 1, max_file_records=3))
    (entry,) = _typed(src, "accidents")[1].quarantined
    assert f"refused: {size} bytes, larger than the limit max_file_bytes={size - 1}" in entry["reason"]
    assert len(info["keys"]["ZDDW_20261128.csv"]) > 3
    (units,) = _typed(_source(tmp_path, Limits(max_file_records=3)), "key_units")[1].quarantined
    assert "max_file_records=3" in units["reason"]


def test_read_file_refuses_names_that_leave_the_folder(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"x")
    for name in ("../a.csv", "..", "", "sub/a.csv"):
        with pytest.raises(FileRefused, match="not a plain file name"):
            read_file(tmp_path / "sub" if name == "sub/a.csv" else tmp_path, name, 10)
    assert read_file(tmp_path, "a.csv", 1) == b"x"
    with pytest.raises(FileRefused, match="max_file_bytes=0"):
        read_file(tmp_path, "a.csv", 0)
