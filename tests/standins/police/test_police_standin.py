"""The police stand-in writes what police.md promises (and breaks it only when told)."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date
from pathlib import Path

import pytest
from standins.police import PoliceFaults, drop_day, drop_next_day, populate, resend_day
from standins.police.alarms import CATEGORIES
from standins.police.people import _CREDIT_CHARS, _CREDIT_WEIGHTS, id_check_char
from standins.police.places import TOWNS

from connectors.police.codes import HAICHENG_DIVISIONS

DAY = date(2026, 11, 28)


def _table(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("gb18030"), newline="")))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    populate(a, seed=1, scale=0.3, days=2, end_date=DAY)
    populate(b, seed=1, scale=0.3, days=2, end_date=DAY)
    populate(c, seed=2, scale=0.3, days=2, end_date=DAY)
    assert _snapshot(a) == _snapshot(b)
    assert _snapshot(a)["JJXX_20261128.csv"] != _snapshot(c)["JJXX_20261128.csv"]
    assert not [p for p in a.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_files_follow_the_contract(tmp_path: Path) -> None:
    info = drop_day(tmp_path, DAY, seed=4, scale=1)
    jjxx = tmp_path / "JJXX_20261128.csv"
    raw = jjxx.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends (quoted breaks aside)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    table = _table(jjxx)
    assert table[0][:3] == ["接警编号", "接警时间", "报警方式"]
    marker = (tmp_path / "JJXX_20261128.csv.ok").read_text().split()
    assert marker == [f"rows={len(table) - 1}", f"md5={hashlib.md5(raw).hexdigest()}"]
    assert info["rows"]["JJXX_20261128.csv"] == len(table) - 1
    rows = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    assert all(len(r["接警编号"]) == 20 for r in rows)
    assert {r["所属辖区代码"] for r in rows} <= HAICHENG_DIVISIONS
    assert any("/" in r["接警时间"] for r in rows) and any("-" in r["接警时间"] for r in rows)
    assert any(r["经度"] == "" for r in rows) and any(r["经度"] == "0" for r in rows)
    assert any(r["经度"].startswith("40.") for r in rows)  # swapped
    assert any(any(ch in r["简要警情"] for ch in ',"\n') for r in rows)  # quoting exercised
    ids = [r["报警人证件号码"] for r in rows if r["报警人证件号码"]]
    assert ids and all(i.startswith("210381") and id_check_char(i[:17]) == i[17] for i in ids)
    assert {r["警情类别代码"] for r in rows} <= {c.code for c in CATEGORIES}


def test_key_units_and_accidents_look_like_haicheng(tmp_path: Path) -> None:
    drop_day(tmp_path, DAY, seed=4, scale=1)
    units = _table(tmp_path / "ZDDW_20261128.csv")
    assert len(units) - 1 == 36
    for row in units[1:]:
        code = row[1]
        total = sum(_CREDIT_CHARS.index(ch) * w for ch, w in zip(code[:17], _CREDIT_WEIGHTS, strict=True))
        assert len(code) == 18 and code[2:8] == "210381" and _CREDIT_CHARS[(31 - total % 31) % 31] == code[17]
    assert any("矿业" in row[0] and row[2] == "民用爆炸物品使用" for row in units[1:])
    accidents = _table(tmp_path / "JTSG_20261128.csv")
    roads = {row[6] for row in accidents[1:]}
    assert roads & {"G15", "G16", "S321", "S322", "X052", "X054"} and "G1" not in roads
    assert {row[10] for row in accidents[1:]} <= {"是", "否"}


def test_scale_sizes_the_day(tmp_path: Path) -> None:
    small = drop_day(tmp_path / "s", DAY, seed=4, scale=0.25)
    large = drop_day(tmp_path / "l", DAY, seed=4, scale=1)
    assert 2 * small["rows"]["JJXX_20261128.csv"] < large["rows"]["JJXX_20261128.csv"]


def test_resend_changes_the_day_and_keeps_its_names(tmp_path: Path) -> None:
    first = drop_day(tmp_path, DAY, seed=4, scale=0.5)
    before = _snapshot(tmp_path)
    again = resend_day(tmp_path, DAY, seed=4, scale=0.5)
    after = _snapshot(tmp_path)
    assert set(before) == set(after)
    assert all(before[n] != after[n] for n in before)
    assert again["non_emergency_counts"] != first["non_emergency_counts"]
    with pytest.raises(ValueError):
        resend_day(tmp_path, DAY, seed=4, scale=0.5, version=0)


@pytest.mark.parametrize(
    ("faults", "marker"),
    [
        (PoliceFaults(missing_marker=True), None),
        (PoliceFaults(bad_marker_rows=True), "rows"),
        (PoliceFaults(bad_marker_md5=True), "md5"),
    ],
)
def test_marker_faults(tmp_path: Path, faults: PoliceFaults, marker: str | None) -> None:
    drop_day(tmp_path, DAY, seed=4, scale=0.2, kinds=["JTSG"], faults=faults)
    path = tmp_path / "JTSG_20261128.csv.ok"
    if marker is None:
        assert not path.exists()
        return
    rows, md5 = path.read_text().split()
    data = (tmp_path / "JTSG_20261128.csv").read_bytes()
    good = (f"rows={len(_table(tmp_path / 'JTSG_20261128.csv')) - 1}", f"md5={hashlib.md5(data).hexdigest()}")
    assert (rows != good[0]) == (marker == "rows") and (md5 != good[1]) == (marker == "md5")


def test_row_faults_and_late_files(tmp_path: Path) -> None:
    info = drop_day(tmp_path, DAY, seed=4, scale=1, faults=PoliceFaults(malformed_rate=0.05, duplicate_rate=0.05))
    malformed = info["malformed"]["JJXX_20261128.csv"]
    assert set(malformed.values()) == {"bad_time", "unknown_division", "bad_coordinate"}
    assert info["duplicated"]["JJXX_20261128.csv"]
    keys = [r[0] for r in _table(tmp_path / "JJXX_20261128.csv")[1:]]
    assert len(keys) - len(set(keys)) == len(info["duplicated"]["JJXX_20261128.csv"])
    late = populate(tmp_path / "late", seed=4, scale=0.2, days=4, end_date=DAY, faults=PoliceFaults(late_rate=0.5))
    assert late["held_back"]
    for day, kind in late["held_back"]:
        assert not (tmp_path / "late" / f"{kind}_{day.replace('-', '')}.csv").exists()


def test_drop_next_day_advances_and_pii_values_are_reported(tmp_path: Path) -> None:
    populated = populate(tmp_path, seed=4, scale=0.2, days=1, end_date=DAY)
    nxt = drop_next_day(tmp_path, seed=4, scale=0.2)
    assert nxt["day"] == "2026-11-29"
    text = (tmp_path / "JJXX_20261128.csv").read_bytes().decode("gb18030")
    assert populated["pii_values"] and all(v in text or v in _all_text(tmp_path) for v in populated["pii_values"])
    assert not set(populated["hazmat_plates"]) & set(populated["pii_values"])


def _all_text(folder: Path) -> str:
    return "".join(p.read_bytes().decode("gb18030") for p in folder.glob("*.csv"))


def test_towns_are_the_reference_towns() -> None:
    assert {t.code12 for t in TOWNS} | {"210381000000"} == HAICHENG_DIVISIONS
