"""Police drop files: marker check, GB18030 CSV, coordinates, personal data (given / when / then)."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectors.pii import Pseudonymizer
from connectors.police.codes import HAICHENG_DIVISIONS, is_emergency
from connectors.police.parse import (
    CsvFile,
    FileRejected,
    Problem,
    fix_coordinates,
    parse_marker,
    read_file,
    row_record,
)
from connectors.police.source import ACCIDENTS, ALARMS, KEY_UNITS, PoliceSource, daily_counts
from connectors.schema import FieldError, type_record

PSEUDO = Pseudonymizer(b"unit-test-key-0123456789abcdef")
JJXX_HEADER = [
    "接警编号",
    "接警时间",
    "报警方式",
    "报警人姓名",
    "报警人联系电话",
    "报警人证件号码",
    "事发地址",
    "所属辖区代码",
    "经度",
    "纬度",
    "警情类别代码",
    "警情类别名称",
    "简要警情",
    "处警单位",
    "派警时间",
    "到场时间",
    "处置结果",
    "反馈时间",
]
JTSG_HEADER = [
    "事故编号",
    "事故时间",
    "事故地点",
    "所属辖区代码",
    "经度",
    "纬度",
    "道路编号",
    "事故形态",
    "死亡人数",
    "受伤人数",
    "涉及危险货物车辆",
    "车牌号",
    "天气",
    "路面状况",
]
# A valid GB 11643-1999 citizen ID (海城市 210381, born 1990-01-01, check character 3).
CALLER = ("刘䶮", "13812345678", "210381199001011233")


def _alarm(alarm_id: str = "J2103812026112800001", **cells: str) -> list[str]:
    row = {
        "接警编号": alarm_id,
        "接警时间": "2026-11-28 13:05:22",
        "报警方式": "电话",
        "报警人姓名": CALLER[0],
        "报警人联系电话": CALLER[1],
        "报警人证件号码": CALLER[2],
        "事发地址": "海城市西柳镇于家台村3组",
        "所属辖区代码": "210381112000",
        "经度": "122.583",
        "纬度": "40.962",
        "警情类别代码": "0401",
        "警情类别名称": "建筑火灾",
        "简要警情": '报警人称"有烟",请求出警\r\n楼内有人',
        "处警单位": "海城市消防救援大队",
        "派警时间": "2026/11/28 13:07",
        "到场时间": "",
        "处置结果": "明火已扑灭",
        "反馈时间": "2026/11/28 14:30",
    }
    row.update(cells)
    return [row[h] for h in JJXX_HEADER]


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    import io

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("gb18030")


def _marker(data: bytes, rows: int) -> bytes:
    return f"rows={rows}\r\nmd5={hashlib.md5(data).hexdigest()}\r\n".encode()


# --- the marker and the file as a whole ---------------------------------------------------------


def test_gb18030_file_with_quotes_commas_and_line_breaks_is_read_row_by_row() -> None:
    # given: a name outside GBK (䶮 is four bytes in GB18030) and a field with "…", comma and CRLF
    data = _csv(JJXX_HEADER, [_alarm(), _alarm("J2103812026112800002")])
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")
    # when
    f = read_file("JJXX_20261128.csv", data, _marker(data, 2))
    # then: two data rows although the file has more lines; the quoted field is whole
    assert data.count(b"\r\n") == 5
    assert [n for n, _ in f.rows] == [1, 2]
    assert f.rows[0][1][3] == "刘䶮"
    assert f.rows[0][1][12] == '报警人称"有烟",请求出警\r\n楼内有人'
    assert f.day == date(2026, 11, 28) and f.kind == "JJXX"


def test_md5_mismatch_rejects_the_file_naming_both_sums() -> None:
    data = _csv(JJXX_HEADER, [_alarm()])
    bad = f"rows=1\nmd5={'0' * 32}\n".encode()
    with pytest.raises(FileRejected) as exc:
        read_file("JJXX_20261128.csv", data, bad)
    assert exc.value.reason == f"md5 mismatch: marker says {'0' * 32}, file is {hashlib.md5(data).hexdigest()}"


def test_row_count_mismatch_rejects_the_file() -> None:
    data = _csv(JJXX_HEADER, [_alarm(), _alarm("J2")])
    with pytest.raises(FileRejected, match="row count mismatch: marker says 3 rows, file has 2"):
        read_file("JJXX_20261128.csv", data, _marker(data, 3))


@pytest.mark.parametrize(
    ("marker", "ok"),
    [
        (b"rows=3\r\nmd5=0123456789abcdef0123456789ABCDEF\r\n", True),
        (b"md5=0123456789abcdef0123456789abcdef\nrows=3", True),
        (b"rows=3\n", False),
        (b"rows=three\nmd5=0123456789abcdef0123456789abcdef\n", False),
        (b"13812345678\n", False),
        ("rows=3\nmd5=中文".encode("gb18030"), False),
    ],
)
def test_marker_must_be_rows_and_md5(marker: bytes, ok: bool) -> None:
    if ok:
        assert parse_marker("X.csv", marker).rows == 3
    else:
        with pytest.raises(FileRejected) as exc:
            parse_marker("X.csv", marker)
        assert "13812345678" not in str(exc.value)  # a marker's content is never quoted


def test_bytes_that_are_not_gb18030_reject_the_file() -> None:
    data = _csv(JJXX_HEADER, [_alarm()])[:-3] + b"\x81\x20\r\n"
    with pytest.raises(FileRejected, match="not GB18030: undecodable bytes at offset"):
        read_file("JJXX_20261128.csv", data, _marker(data, 1))


# --- rows to records ----------------------------------------------------------------------------


def _file(header: list[str], rows: list[list[str]], name: str = "JJXX_20261128.csv") -> CsvFile:
    data = _csv(header, rows)
    return read_file(name, data, _marker(data, len(rows)))


def test_personal_values_leave_only_as_pseudonym_and_mask() -> None:
    f = _file(JJXX_HEADER, [_alarm(), _alarm("J2", 报警人联系电话="138 1234 5678")])
    first, second = (row_record(f, n, cells, PSEUDO, ("alarm_id",)) for n, cells in f.rows)
    text = json.dumps([first, second], ensure_ascii=False)
    for clear in CALLER:
        assert clear not in text
    assert first["caller_name_masked"] == "刘*"
    assert first["caller_phone_masked"] == "138****5678"
    assert first["caller_id_masked"] == "2103**********1233"
    # the same phone written differently links to the same caller
    assert first["caller_phone_pseudonym"] == second["caller_phone_pseudonym"]
    assert first["caller_phone_pseudonym"] != Pseudonymizer(b"another-key-0123456789abcdef").pseudonym(
        "phone", CALLER[1]
    )


def test_mixed_time_formats_are_local_time() -> None:
    f = _file(JJXX_HEADER, [_alarm()])
    row = type_record(ALARMS, row_record(f, 1, f.rows[0][1], PSEUDO, ()))
    assert row["received_at"] == datetime(2026, 11, 28, 5, 5, 22, tzinfo=UTC)
    assert row["dispatched_at"] == datetime(2026, 11, 28, 5, 7, tzinfo=UTC)
    assert row["arrived_at"] is None
    assert row["report_date"] == date(2026, 11, 28) and row["source_row"] == 1


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        ("122.75", "40.85", (122.75, 40.85, "ok")),
        ("40.85", "122.75", (122.75, 40.85, "swapped")),
        ("0", "0", (None, None, "missing")),
        ("122.75", "0", (None, None, "missing")),
        ("", "", (None, None, "missing")),
        ("", "40.85", (None, None, "missing")),
        ("116.40", "39.90", (116.40, 39.90, "out_of_area")),
        ("东经122.7", "40.85", ("东经122.7", "40.85", "invalid")),
        ("nan", "40.85", ("nan", "40.85", "invalid")),
    ],
)
def test_coordinates_empty_zero_or_swapped(lon: str, lat: str, expected: tuple) -> None:
    assert fix_coordinates(lon, lat) == expected


def test_unparsable_coordinate_is_a_field_error_on_typing() -> None:
    f = _file(JJXX_HEADER, [_alarm(经度="122.7.35")])
    record = row_record(f, 1, f.rows[0][1], PSEUDO, ())
    with pytest.raises(FieldError) as exc:
        type_record(ALARMS, record)
    assert exc.value.field_name == "lon"


def test_hazmat_plate_stays_clear_other_plates_do_not() -> None:
    base = [
        "SG210381202611280001",
        "2026/11/28 08:12",
        "G15沈海高速K136+750处",
        "210381108000",
        "122.70",
        "40.76",
        "G15",
        "追尾碰撞",
        "0",
        "1",
    ]
    f = _file(
        JTSG_HEADER,
        [
            [*base, "是", "辽CD2208", "晴", "干燥"],
            ["SG2", *base[1:], "否", "辽C8K2Q7", "雪", "结冰"],
            ["SG3", *base[1:], "是", "辽CD2209、辽C12345", "晴", "干燥"],
        ],
        "JTSG_20261128.csv",
    )
    hazmat, ordinary, several = (row_record(f, n, c, PSEUDO, ()) for n, c in f.rows)
    assert hazmat["hazmat_plate"] == "辽CD2208" and hazmat["plate_pseudonym"].startswith("plate_")
    assert ordinary["hazmat_plate"] is None and "辽C8K2Q7" not in json.dumps(ordinary, ensure_ascii=False)
    assert ordinary["plate_masked"] == "辽C***Q7"
    # which of two plates carries the goods is unknown: neither is kept in clear
    assert several["hazmat_plate"] is None and len(several["plate_pseudonym"].split(";")) == 2
    assert "辽C12345" not in json.dumps(several, ensure_ascii=False)
    assert type_record(ACCIDENTS, hazmat)["hazmat"] is True


def test_a_row_with_shifted_columns_keeps_nothing_of_its_content() -> None:
    cells = _alarm()
    f = CsvFile("JJXX_20261128.csv", "JJXX", date(2026, 11, 28), "x", JJXX_HEADER, [(7, cells[:5] + cells[6:])])
    record = row_record(f, 7, f.rows[0][1], PSEUDO, ("alarm_id", "received_at"))
    assert isinstance(record, Problem)
    assert "17 fields, the header has 18" in record.reason and "data row 7" in record.reason
    assert set(record) == {"alarm_id", "received_at", "report_date", "source_file", "source_row"}
    assert not any(clear in json.dumps(record, ensure_ascii=False) for clear in CALLER)


def test_unknown_column_is_kept_pseudonymised_so_drift_is_reported_without_clear_values() -> None:
    header = [*JJXX_HEADER, "报警人住址"]
    f = _file(header, [[*_alarm(), "海城市海州街道某小区3栋"]])
    record = row_record(f, 1, f.rows[0][1], PSEUDO, ())
    assert record["报警人住址"].startswith("unknown_column_")
    assert "某小区" not in json.dumps(record, ensure_ascii=False)


def test_valid_until_in_three_formats() -> None:
    header = [
        "单位名称",
        "统一社会信用代码",
        "许可类型",
        "许可证号",
        "有效期至",
        "地址",
        "所属辖区代码",
        "负责人",
        "负责人联系电话",
    ]
    row = [
        "海城市华宇矿业有限公司",
        "91210381MA0XXXXX1X",
        "民用爆炸物品使用",
        "辽公爆使字〔2025〕0001号",
        "20280630",
        "海城市牌楼镇",
        "210381107000",
        "王伟",
        "13900001111",
    ]
    f = _file(header, [row], "ZDDW_20261128.csv")
    typed = type_record(KEY_UNITS, row_record(f, 1, f.rows[0][1], PSEUDO, ()))
    assert typed["valid_until"] == date(2028, 6, 30)
    assert typed["principal_masked"] == "王*" and typed["principal_phone_masked"] == "139****1111"


# --- categories and counts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "emergency"),
    [
        ("0301", True),
        ("0302", True),
        ("0404", True),
        ("0503", True),
        ("0505", True),
        ("0701", True),
        ("0799", True),
        ("0501", False),
        ("0504", False),
        ("0101", False),
        ("0202", False),
        ("0601", False),
        ("9901", False),
        ("", False),
        (None, False),
        ("03", False),
        ("0301x", False),
    ],
)
def test_emergency_relevant_categories(code: str | None, emergency: bool) -> None:
    assert is_emergency(code) is emergency


def test_daily_counts_count_distinct_alarms_of_other_categories_only() -> None:
    f = CsvFile("JJXX_20261128.csv", "JJXX", date(2026, 11, 28), "x", [], [])
    records = [
        {
            "alarm_id": "A1",
            "category_code": "0101",
            "category_name": "盗窃",
            "division_code": "210381001000",
            "source_row": 1,
        },
        {
            "alarm_id": "A1",
            "category_code": "0101",
            "category_name": "盗窃",
            "division_code": "210381001000",
            "source_row": 2,
        },  # exported twice
        {
            "alarm_id": "A2",
            "category_code": "0101",
            "category_name": "盗窃",
            "division_code": "210381001000",
            "source_row": 3,
        },
        {
            "alarm_id": "A3",
            "category_code": "0601",
            "category_name": "家庭纠纷",
            "division_code": "210381112000",
            "source_row": 4,
        },
        {
            "alarm_id": "A4",
            "category_code": "0401",
            "category_name": "建筑火灾",
            "division_code": "210381112000",
            "source_row": 5,
        },
    ]
    counts = daily_counts(records, f)
    assert [(c["category_code"], c["division_code"], c["alarm_count"]) for c in counts] == [
        ("0101", "210381001000", 2),
        ("0601", "210381112000", 1),
    ]
    assert all(
        set(c) == {"report_date", "source_file", "category_code", "category_name", "division_code", "alarm_count"}
        for c in counts
    )


# --- normalise ----------------------------------------------------------------------------------


def test_normalise_refuses_unknown_divisions_and_problem_records(tmp_path: Path) -> None:
    src = PoliceSource(_NoDrop(), PSEUDO)
    with pytest.raises(FieldError, match="not a 12-digit division code of 海城市") as exc:
        src.normalise("alarms", {"alarm_id": "A", "division_code": "210381999000"})
    assert exc.value.field_name == "division_code"
    problem = Problem({"alarm_id": None, "source_file": "JJXX_20261128.csv"}, "source_file", "file rejected whole: x")
    with pytest.raises(FieldError, match="file rejected whole: x"):
        src.normalise("alarms", problem)
    # replayed from quarantine (a plain dict again): still refused, with a reason that says what fixes it
    with pytest.raises(FieldError, match="re-sends it"):
        src.normalise("alarms", json.loads(json.dumps(problem)))
    assert src.normalise("alarms", {"alarm_id": "A", "division_code": "210381000000"})["alarm_id"] == "A"


class _NoDrop:
    uri = "nowhere"

    def names(self) -> list[str]:
        return []

    def read(self, name: str) -> bytes:
        raise FileNotFoundError(name)


def test_division_codes_agree_with_the_reference_list_and_the_seed() -> None:
    root = Path(__file__).resolve().parents[3]
    seed = root / "dbt" / "seeds" / "ref_divisions.csv"
    with seed.open(encoding="utf-8") as fh:
        assert {r["code12"] for r in csv.DictReader(fh)} == HAICHENG_DIVISIONS
    reference = Path("/work/shared/reference/haicheng_divisions_2022.csv")
    if reference.exists():
        with reference.open(encoding="utf-8") as fh:
            assert {r["code12"] for r in csv.DictReader(fh)} == HAICHENG_DIVISIONS


def test_numbers_written_into_free_text_are_masked() -> None:
    f = _file(
        JJXX_HEADER,
        [
            _alarm(
                简要警情=f"有人落水，回拨电话{CALLER[1]}",
                处置结果=f"已核实报警人身份{CALLER[2]}",
                事发地址="海城市海州街道永安路5号，座机0412-3312345",
            )
        ],
    )
    record = row_record(f, 1, f.rows[0][1], PSEUDO, ())
    assert record["summary"] == "有人落水，回拨电话138****5678"
    assert record["outcome"] == "已核实报警人身份2103**********1233"
    assert record["address"] == "海城市海州街道永安路5号，座机041****2345"
    assert record["alarm_id"] == "J2103812026112800001"


# --- citizen IDs are validated (GB 11643-1999) before they are pseudonymised ---------------------

# Each fails one rule; the other rules hold (the check character is right unless it is the fault).
BAD_IDS = {
    "210381199001011234": "bad_check_digit",  # …1233 is right
    "21038119900101123": "wrong_length",
    "2103811990010112334": "wrong_length",
    "21038119900101123Y": "bad_format",
    "210381199002301232": "bad_birth_date",  # 30 February, check character right
    "210381209912311233": "bad_birth_date",  # born after the file's day
    "990381199001011233": "unknown_region",  # no county 990381, check character right
}


@pytest.mark.parametrize(("number", "reason"), sorted(BAD_IDS.items()))
def test_an_invalid_citizen_id_is_flagged_not_pseudonymised(number: str, reason: str, caplog) -> None:
    f = _file(JJXX_HEADER, [_alarm(报警人证件号码=number), _alarm("J2103812026112800002")])
    src = PoliceSource(_NoDrop(), PSEUDO)  # type: ignore[arg-type]
    with caplog.at_level("DEBUG"):
        bad, good = src._records(ALARMS, f)
    # the bad number: the row stays, flagged, with nothing derived from the number
    assert bad["caller_id_status"] == reason
    assert bad["caller_id_pseudonym"] is None and bad["caller_id_masked"] is None
    assert bad["caller_name_pseudonym"] and bad["alarm_id"] == "J2103812026112800001"
    assert type_record(ALARMS, src.normalise("alarms", bad))["caller_id_status"] == reason
    # the good one is pseudonymised as before
    assert good["caller_id_status"] == "valid" and good["caller_id_pseudonym"] == PSEUDO.pseudonym(
        "citizen_id", CALLER[2]
    )
    # the finding names file, row and field with the reason, never the number
    assert src.flagged == [
        {"dataset": "alarms", "file": "JJXX_20261128.csv", "row": 1, "field": "报警人证件号码", "reason": reason}
    ]
    assert "JJXX_20261128.csv data row 1 field 报警人证件号码" in caplog.text and reason in caplog.text
    everything = json.dumps([bad, good, src.flagged], ensure_ascii=False) + caplog.text
    assert number not in everything and CALLER[2] not in everything


def test_a_missing_citizen_id_is_neither_valid_nor_flagged() -> None:
    f = _file(JJXX_HEADER, [_alarm(报警人证件号码="")])
    src = PoliceSource(_NoDrop(), PSEUDO)  # type: ignore[arg-type]
    (record,) = src._records(ALARMS, f)
    assert record["caller_id_status"] is None and record["caller_id_pseudonym"] is None
    assert src.flagged == []


def test_an_id_with_lower_case_x_is_the_same_valid_id() -> None:
    from stdnum.cn import ric

    first17 = "21038119850615004"
    number = first17 + ric.calc_check_digit(first17 + "0")
    assert number.endswith("X"), "pick a body whose check character is X"
    f = _file(JJXX_HEADER, [_alarm(报警人证件号码=number.lower()), _alarm("J2", 报警人证件号码=number)])
    first, second = (row_record(f, n, cells, PSEUDO, ()) for n, cells in f.rows)
    assert first["caller_id_status"] == second["caller_id_status"] == "valid"
    assert first["caller_id_pseudonym"] == second["caller_id_pseudonym"] is not None
