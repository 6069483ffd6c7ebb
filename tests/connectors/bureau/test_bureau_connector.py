"""The bureau-register connector on hand-made workbooks (given / when / then)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from connectors.bureau.registers import BY_DATASET, DATASETS
from connectors.bureau.source import BureauSource, inbox_path, parse_cursor
from connectors.bureau.workbook import WorkbookRejected, read_table
from edp.ingest.extract import _Typed, type_page

KEY = b"unit-test-pii-key-0123456789abcdef"
UNTIL = datetime(2030, 1, 1, tzinfo=UTC)
TEAM_HEADERS = [
    "队伍编号",
    "队伍名称",
    "队伍类型",
    "人数",
    "主要装备",
    "驻地",
    "所属辖区代码",
    "经度",
    "纬度",
    "负责人",
    "联系电话",
]
TEAMS = [
    [
        "DW210381001",
        "海城市消防救援大队",
        "综合性消防救援",
        "５１",
        "消防车",
        "海城市海州街道中街342号",
        210381001000,
        122.747166,
        "40.839859",
        "乔海涛",
        15290375098,
    ],
    [None] * 11,  # an empty line inside the table
    [
        "DW210381020",
        "海城市矿山救护大队 ",
        "专业救援-矿山",
        "28人",
        "正压氧气呼吸器",
        "海城市八里镇工业路8号",
        "２１０３８１１０８０００",
        122.70,
        40.78,
        "关振华 ",
        "139-4128-7766",
    ],
    ["合计", None, None, 79],
]
NOTES = [
    ["填报单位：海城市应急管理局（盖章）"],
    ["填报人：白春生　　联系电话：13700001111"],
    ["填报日期：2026年11月28日"],
]


def staff_workbook(
    path: Path,
    title: str,
    headers: list[str],
    rows: list[list[Any]],
    notes: list[list[Any]] | None = None,
    mtime: datetime | None = None,
) -> Path:
    """A register as staff keep it: merged title, blank row, header, rows, a blank row, notes."""
    book = Workbook()
    ws = book.active
    ws.append([f"海城市{title}（2026年11月）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    ws.append([])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    ws.append([])
    for note in notes or NOTES:
        ws.append(note)
    book.save(path)
    if mtime:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def typed(src: BureauSource, dataset: str, pages: list[Any]) -> _Typed:
    out = _Typed()
    for number, page in enumerate(pages, start=1):
        type_page(src, DATASETS[dataset], page, f"landing/bureau/{dataset}/b/page-{number:05d}.json.gz", out)
    return out


def test_a_staff_workbook_is_read_below_its_title_without_notes_and_empty_lines(tmp_path: Path) -> None:
    staff_workbook(tmp_path / "救援队伍台账.xlsx", "救援队伍台账", TEAM_HEADERS, TEAMS)
    table = read_table((tmp_path / "救援队伍台账.xlsx").read_bytes(), BY_DATASET["rescue_teams"], "救援队伍台账.xlsx")
    assert table.header_row == 3 and table.empty_rows == 2 and table.note_rows == 4
    assert [number for number, _ in table.rows] == [4, 6]


def test_rows_are_typed_and_personal_values_never_leave_in_clear(tmp_path: Path) -> None:
    uploaded = datetime(2026, 11, 28, 1, 5, tzinfo=UTC)
    staff_workbook(tmp_path / "救援队伍台账.xlsx", "救援队伍台账", TEAM_HEADERS, TEAMS, mtime=uploaded)
    src = BureauSource(tmp_path, KEY)
    (page,) = list(src.read("rescue_teams", None, UNTIL))
    landed = page.body.decode("utf-8")
    for clear in ("乔海涛", "关振华", "白春生", "15290375098", "139-4128-7766", "13941287766", "13700001111"):
        assert clear not in landed
        assert clear not in json.dumps(page.records, ensure_ascii=False)
    body = json.loads(page.body)
    assert body["dropped"] == {"empty_rows": 2, "note_rows": 4} and body["header_row"] == 3
    out = typed(src, "rescue_teams", [page])
    assert out.quarantined == []
    rows = {r["team_code"]: r for r in out.rows.values()}
    mine = rows["DW210381020"]
    assert mine["team_name"] == "海城市矿山救护大队" and mine["member_count"] == 28
    assert mine["division_code"] == "210381108000" and mine["lon"] == 122.7
    assert mine["leader_masked"] == "关**" and mine["phone_masked"] == "139****7766"
    assert mine["leader_pseudonym"].startswith("name_") and mine["phone_pseudonym"].startswith("phone_")
    assert rows["DW210381001"]["member_count"] == 51 and rows["DW210381001"]["lat"] == 40.839859
    assert rows["DW210381001"]["division_code"] == "210381001000"
    assert mine["row_number"] == 6 and mine["source_file"] == "救援队伍台账.xlsx"
    assert mine["uploaded_at"] == uploaded and len(mine["workbook_version"]) == 64


def test_units_dates_and_numbers_as_text_in_the_material_register(tmp_path: Path) -> None:
    headers = [c.header for c in BY_DATASET["material_stock"].columns]
    base = ["CK21038100001", "海城市应急物资储备库", "市级", "210381001000", "海城市海州街道人民路1号", 122.75, 40.86]
    rows = [
        [*base, "1010101", "帐篷", "单帐篷 12m²", "頂", "７３２", 800, 45593, None, "2026年10月2日"],
        [*base, "3020101", "铅丝", "8#", "t", "12.5", "20", "2025/3/8", "", "2026.10.02"],
        [*base, "1030101", "矿泉水", "550ml×24瓶", None, "200箱", 2000, datetime(2026, 5, 1), "2027-05-01", 46297],
        [*base, "1020201", "棉被", "1.5×2.0m 3kg", "件", "若干", 3000, None, None, "2026-02-30"],
    ]
    staff_workbook(tmp_path / "应急物资储备台账.xlsx", "应急物资储备台账", headers, rows)
    src = BureauSource(tmp_path, KEY)
    out = typed(src, "material_stock", list(src.read("material_stock", None, UNTIL)))
    got = {r["material_code"]: r for r in out.rows.values()}
    assert (got["1010101"]["unit"], got["1010101"]["unit_raw"], got["1010101"]["quantity"]) == ("顶", "頂", 732.0)
    assert got["1010101"]["production_date"].isoformat() == "2024-10-28"  # Excel serial 45593
    assert got["1010101"]["updated_date"].isoformat() == "2026-10-02"
    assert (got["3020101"]["unit"], got["3020101"]["unit_raw"], got["3020101"]["quantity"]) == ("吨", "t", 12.5)
    assert got["3020101"]["production_date"].isoformat() == "2025-03-08" and got["3020101"]["expiry_date"] is None
    assert (got["1030101"]["unit"], got["1030101"]["unit_raw"], got["1030101"]["quantity"]) == ("箱", "箱", 200.0)
    assert got["1030101"]["expiry_date"].isoformat() == "2027-05-01"
    (bad,) = out.quarantined
    assert bad["field"] == "quantity" and "若干" in bad["reason"] and bad["record"]["row_number"] == 7


def test_a_wrong_header_rejects_the_workbook_naming_the_columns(tmp_path: Path) -> None:
    headers = [h if h != "联系电话" else "手机号码" for h in TEAM_HEADERS if h != "主要装备"]
    rows = [[c for h, c in zip(TEAM_HEADERS, TEAMS[0], strict=True) if h != "主要装备"]]
    staff_workbook(tmp_path / "救援队伍台账.xlsx", "救援队伍台账", headers, rows)
    with pytest.raises(WorkbookRejected) as caught:
        read_table((tmp_path / "救援队伍台账.xlsx").read_bytes(), BY_DATASET["rescue_teams"], "救援队伍台账.xlsx")
    assert caught.value.missing == ["主要装备", "联系电话"] and caught.value.unknown == ["手机号码"]
    assert "header row 3" in str(caught.value)
    src = BureauSource(tmp_path, KEY)
    (page,) = list(src.read("rescue_teams", None, UNTIL))
    out = typed(src, "rescue_teams", [page])
    assert out.rows == {}
    (entry,) = out.quarantined
    assert entry["field"] == "header"
    assert "missing column(s): 主要装备, 联系电话" in entry["reason"]
    assert "unknown column(s): 手机号码" in entry["reason"]
    assert "乔海涛" not in page.body.decode() and "乔海涛" not in json.dumps(entry, ensure_ascii=False)
    # Replayed later by a fresh connector (no memory of the rejection), the record stays quarantined.
    again = typed(BureauSource(tmp_path, KEY), "rescue_teams", [page])
    assert again.rows == {} and again.quarantined[0]["reason"] == entry["reason"]


def test_an_unreadable_file_is_rejected_and_others_still_load(tmp_path: Path) -> None:
    (tmp_path / "辖区基础信息.xlsx").write_bytes(b"this is not a zip")
    (tmp_path / "~$救援队伍台账.xlsx").write_bytes(b"an Excel lock file")
    staff_workbook(tmp_path / "救援队伍台账.xlsx", "救援队伍台账", TEAM_HEADERS, TEAMS)
    src = BureauSource(tmp_path, KEY)
    (page,) = list(src.read("division_facts", None, UNTIL))
    (entry,) = typed(src, "division_facts", [page]).quarantined
    assert "not a readable .xlsx workbook" in entry["reason"]
    assert [p.name for p in src.versions(BY_DATASET["rescue_teams"])] == ["救援队伍台账.xlsx"]
    assert len(typed(src, "rescue_teams", list(src.read("rescue_teams", None, UNTIL))).rows) == 2


def test_cursor_skips_loaded_versions_and_picks_up_new_ones_in_upload_order(tmp_path: Path) -> None:
    first = datetime(2026, 11, 20, 1, tzinfo=UTC)
    staff_workbook(tmp_path / "救援队伍台账.xlsx", "救援队伍台账", TEAM_HEADERS, TEAMS, mtime=first)
    src = BureauSource(tmp_path, KEY)
    (page,) = list(src.read("rescue_teams", None, UNTIL))
    cursor = page.cursor
    assert cursor is not None and cursor.startswith('{"at": "')
    assert list(parse_cursor(cursor)) == ["救援队伍台账.xlsx"]
    assert list(src.read("rescue_teams", cursor, UNTIL)) == []  # nothing new: no page, no rows
    # Staff upload a new version under another name, then replace the original file too.
    changed = [TEAMS[0], [*TEAMS[2][:3], 30, *TEAMS[2][4:]]]
    staff_workbook(
        tmp_path / "救援队伍台账(2).xlsx",
        "救援队伍台账",
        TEAM_HEADERS,
        changed,
        mtime=datetime(2026, 11, 22, tzinfo=UTC),
    )
    staff_workbook(
        tmp_path / "救援队伍台账.xlsx",
        "救援队伍台账",
        TEAM_HEADERS,
        TEAMS[:1],
        mtime=datetime(2026, 11, 25, tzinfo=UTC),
    )
    pages = list(src.read("rescue_teams", cursor, UNTIL))
    assert [json.loads(p.body)["source_file"] for p in pages] == ["救援队伍台账(2).xlsx", "救援队伍台账.xlsx"]
    assert pages[0].cursor is None and pages[-1].cursor > cursor  # cursors grow as strings
    out = typed(src, "rescue_teams", pages)
    assert len(out.rows) == 3 and out.duplicates == 0  # two versions in one pull stay apart
    # A version uploaded after ``until`` waits for the next pull.
    (early,) = list(src.read("rescue_teams", None, datetime(2026, 11, 23, tzinfo=UTC)))
    assert early.records[0]["source_file"] == "救援队伍台账(2).xlsx"


def test_check_and_inbox_locations(tmp_path: Path) -> None:
    staff_workbook(tmp_path / "救援队伍台账.xlsx", "救援队伍台账", TEAM_HEADERS, TEAMS)
    (tmp_path / "值班表.xlsx").write_bytes(b"x")
    result = BureauSource(tmp_path, KEY).check()
    assert result.ok and result.details["workbooks"]["rescue_teams"] == ["救援队伍台账.xlsx"]
    assert result.details["ignored"] == ["值班表.xlsx"]
    assert not BureauSource(tmp_path / "missing", KEY).check().ok
    assert inbox_path(tmp_path.as_uri()) == tmp_path and inbox_path(str(tmp_path)) == tmp_path
    with pytest.raises(ValueError, match="not a directory or file:// URL"):
        inbox_path("s3://bucket/inbox/")
