"""Police drop stand-in → lake → raw, against a real PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from standins.police import PoliceFaults, drop_day, populate, resend_day, write_marker

from connectors.police.codes import HAICHENG_DIVISIONS
from edp.ingest.quarantine import replay
from edp.orchestration.pipeline import ingest
from edp.settings import Settings
from edp.storage import ops
from edp.storage.warehouse import engine
from tests.support.platform_scan import lake_text, log_text, warehouse_tables, warehouse_text
from tests.support.sources import point_at
from tests.support.warehouse import column, repeated_keys, scalar

pytestmark = pytest.mark.integration
CST = timezone(timedelta(hours=8))
END = date(2026, 11, 28)
UNTIL = datetime(2026, 11, 29, 1, 30, tzinfo=CST)
TABLES = ("alarms", "alarm_daily_counts", "accidents", "key_units")


@pytest.fixture
def police(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Path]:
    drop = tmp_path / "exchange" / "police"
    drop.mkdir(parents=True)
    return point_at(monkeypatch, "police", str(drop)), drop


def _counts(s: Settings) -> dict[str, int]:
    return {t: scalar(s, f"select count(*) from raw.police__{t}") for t in TABLES}


def _dupes(s: Settings) -> int:
    return repeated_keys(s, "raw.police__alarms", "alarm_id")


def _daily_counts(s: Settings, day: date) -> dict[str, int]:
    with engine(s).connect() as c:
        rows = c.execute(
            sa.text(
                "select category_code, division_code, alarm_count from raw.police__alarm_daily_counts "
                "where report_date = :d"
            ),
            {"d": day},
        ).all()
    return {f"{code}|{division}": n for code, division, n in rows}


def test_ingest_twice_adds_nothing(police) -> None:
    s, drop = police
    generated = populate(drop, seed=11, scale=0.5, days=3, end_date=END)
    first = ingest("police", s, until=UNTIL)
    counts = _counts(s)
    assert first["quarantined"] == 0 and all(n > 0 for n in counts.values())
    expected_alarms = sum(len(d["emergency_ids"]) for d in generated["per_day"].values())
    assert counts["alarms"] == expected_alarms
    assert counts["key_units"] == 3 * scalar(s, "select count(distinct license_no) from raw.police__key_units")
    second = ingest("police", s, until=UNTIL)
    assert second["rows"] == 0 and _counts(s) == counts
    assert _dupes(s) == 0
    cursor = json.loads(ops.get_cursor(s, "police", "alarms"))
    assert sorted(cursor["files"]) == ["JJXX_20261126.csv", "JJXX_20261127.csv", "JJXX_20261128.csv"]


def test_a_resent_day_replaces_the_day(police) -> None:
    s, drop = police
    populate(drop, seed=11, scale=0.5, days=2, end_date=END)
    ingest("police", s, until=UNTIL)
    other_day = _daily_counts(s, END - timedelta(days=1))
    resent = resend_day(drop, END, seed=11, scale=0.5)
    ingest("police", s, until=UNTIL)
    assert _daily_counts(s, END) == resent["non_emergency_counts"]  # the new file's counts, not the sum
    with engine(s).connect() as c:
        ids = c.execute(sa.text("select alarm_id from raw.police__alarms where report_date = :d"), {"d": END}).scalars()
        assert sorted(ids) == sorted(resent["emergency_ids"])
        corrected = c.execute(
            sa.text("select count(*) from raw.police__alarms where outcome like :o"), {"o": "%（已更正）"}
        ).scalar()
    assert corrected > 0
    assert scalar(s, "select count(*) from raw.police__accidents where report_date = :d", d=END) == len(
        resent["keys"]["JTSG_20261128.csv"]
    )
    assert _daily_counts(s, END - timedelta(days=1)) == other_day  # the other day is untouched


def test_a_bad_marker_rejects_the_file_whole_and_reports_it(police, caplog) -> None:
    s, drop = police
    drop_day(drop, END - timedelta(days=1), seed=11, scale=0.5)
    drop_day(drop, END, seed=11, scale=0.5, kinds=["JJXX"], faults=PoliceFaults(bad_marker_md5=True))
    drop_day(drop, END, seed=11, scale=0.5, kinds=["JTSG", "ZDDW"])
    with caplog.at_level(logging.ERROR):
        ingest("police", s, until=UNTIL)
    for table in ("alarms", "alarm_daily_counts"):
        assert scalar(s, f"select count(*) from raw.police__{table} where report_date = :d", d=END) == 0
        assert (
            scalar(s, f"select count(*) from raw.police__{table} where report_date = :d", d=END - timedelta(days=1)) > 0
        )
    assert scalar(s, "select count(*) from raw.police__accidents where report_date = :d", d=END) > 0
    with engine(s).connect() as c:
        q = c.execute(sa.text("select dataset, field, reason, record from ops.quarantine order by dataset")).all()
    assert [(r.dataset, r.field) for r in q] == [("alarm_daily_counts", "source_file"), ("alarms", "source_file")]
    assert all(r.reason.startswith("file rejected whole: md5 mismatch: marker says") for r in q)
    assert all(r.record["source_file"] == "JJXX_20261128.csv" for r in q)
    assert "JJXX_20261128.csv rejected whole" in caplog.text
    # a second run does not report it again; once the bureau fixes the marker the day loads
    assert ingest("police", s, until=UNTIL)["quarantined"] == 0
    write_marker(drop, "JJXX_20261128.csv")
    ingest("police", s, until=UNTIL)
    assert scalar(s, "select count(*) from raw.police__alarms where report_date = :d", d=END) > 0
    # replaying the rejection entry cannot invent rows: only a re-sent file can
    out = replay(s, "police")["datasets"]
    assert all(v["replayed"] == 0 for v in out.values())


def test_a_file_without_marker_is_read_once_the_marker_appears(police) -> None:
    s, drop = police
    info = drop_day(drop, END, seed=11, scale=0.5, kinds=["JTSG"], faults=PoliceFaults(missing_marker=True))
    ingest("police", s, until=UNTIL)
    assert scalar(s, "select count(*) from ops.batches where dataset='accidents' and row_count > 0") == 0
    write_marker(drop, "JTSG_20261128.csv")
    ingest("police", s, until=UNTIL)
    assert scalar(s, "select count(*) from raw.police__accidents") == len(info["keys"]["JTSG_20261128.csv"])


def test_a_late_file_is_read_on_a_later_run(police) -> None:
    s, drop = police
    generated = populate(drop, seed=11, scale=0.5, days=3, end_date=END, faults=PoliceFaults(late_rate=0.4))
    assert generated["held_back"], "the seed must hold some file back"
    ingest("police", s, until=UNTIL)
    before = _counts(s)
    for day, kind in generated["held_back"]:
        drop_day(drop, date.fromisoformat(day), seed=11, scale=0.5, kinds=[kind])
    ingest("police", s, until=UNTIL + timedelta(days=1))
    after = _counts(s)
    assert sum(after.values()) > sum(before.values())
    days = scalar(s, "select count(distinct report_date) from raw.police__key_units")
    assert days == 3


def test_non_emergency_alarms_exist_only_as_counts(police) -> None:
    s, drop = police
    generated = populate(drop, seed=11, scale=0.5, days=2, end_date=END)
    ingest("police", s, until=UNTIL)
    codes = scalar(s, "select array_agg(distinct category_code) from raw.police__alarms")
    assert codes and all(c[:2] in ("03", "04", "07") or c in ("0503", "0505") for c in codes)
    for day, info in generated["per_day"].items():
        assert _daily_counts(s, date.fromisoformat(day)) == info["non_emergency_counts"]
    others = {
        k
        for info in generated["per_day"].values()
        for name, keys in info["keys"].items()
        if name.startswith("JJXX")
        for k in keys
    }
    others -= {k for info in generated["per_day"].values() for k in info["emergency_ids"]}
    text = lake_text(s) + warehouse_text(s)
    assert others and not any(alarm_id in text for alarm_id in others)


def test_malformed_and_duplicated_rows(police) -> None:
    s, drop = police
    generated = populate(
        drop, seed=11, scale=0.5, days=2, end_date=END, faults=PoliceFaults(malformed_rate=0.05, duplicate_rate=0.05)
    )
    result = ingest("police", s, until=UNTIL)
    assert result["quarantined"] > 0
    with engine(s).connect() as c:
        q = c.execute(sa.text("select dataset, locator, field, reason, record from ops.quarantine")).all()
        batches = c.execute(sa.text("select * from ops.batches where origin='extract'")).mappings().all()
    assert {r.field for r in q} >= {"division_code"}
    assert all(r.locator.startswith("landing/police/") and " record " in r.locator for r in q)
    assert all(
        r.record.get("source_file") and r.record.get("source_row") for r in q if r.dataset != "alarm_daily_counts"
    )
    for b in batches:
        assert b["source_rows"] == b["row_count"] + b["quarantined_count"] + b["duplicate_count"]
    malformed = {
        k: how
        for info in generated["per_day"].values()
        for name, keys in info["malformed"].items()
        if name.startswith("JJXX")
        for k, how in keys.items()
    }
    expected = {k for info in generated["per_day"].values() for k in info["emergency_ids"]}
    loaded = set(column(s, "select alarm_id from raw.police__alarms"))
    assert expected - set(malformed) <= loaded <= expected
    # a malformed alarm is quarantined, except a broken longitude next to an empty latitude (= no position)
    assert all(malformed[k] == "bad_coordinate" for k in loaded & set(malformed))
    assert expected - loaded, "the seed must malform some emergency alarm"
    assert _dupes(s) == 0
    # the generator's own distinct counts, minus those whose division is not of 海城市 (quarantined)
    for day, info in generated["per_day"].items():
        good = {k: v for k, v in info["non_emergency_counts"].items() if k.split("|")[1] in HAICHENG_DIVISIONS}
        assert good != info["non_emergency_counts"] or day != END.isoformat()
        assert _daily_counts(s, date.fromisoformat(day)) == good


# --- the privacy test ---------------------------------------------------------------------------


def _drop_text(drop: Path) -> str:
    return "\n".join(p.read_bytes().decode("gb18030") for p in sorted(drop.glob("*.csv")))


def test_privacy_no_clear_personal_value_reaches_lake_warehouse_or_logs(police, caplog) -> None:
    s, drop = police
    faults = PoliceFaults(malformed_rate=0.05, duplicate_rate=0.05)
    generated = populate(drop, seed=5, scale=0.5, days=3, end_date=END, faults=faults)
    first_drop = _drop_text(drop)
    # a rejected file and a re-sent day go through the same machinery
    rejected = drop_day(
        drop,
        END + timedelta(days=1),
        seed=5,
        scale=0.5,
        kinds=["JJXX", "ZDDW"],
        faults=PoliceFaults(bad_marker_rows=True),
    )
    resent = resend_day(drop, END, seed=5, scale=0.5, faults=faults)
    extra = drop_day(drop, END + timedelta(days=1), seed=5, scale=0.5, kinds=["JTSG"])
    with caplog.at_level(logging.DEBUG):
        ingest("police", s, until=UNTIL + timedelta(days=1))
        ingest("police", s, until=UNTIL + timedelta(days=1))
        replay(s, "police")
    secrets = {v for info in (generated, resent, extra, rejected) for v in info["pii_values"]}
    assert len(secrets) > 500 and scalar(s, "select count(*) from raw.police__alarms") > 0
    # the scan finds them where they are: in the bureau's own files (before and after the re-sending)
    assert all(v in first_drop + _drop_text(drop) for v in secrets)
    assert {("raw", f"police__{t}") for t in TABLES} <= set(warehouse_tables(s))
    lake, warehouse, logs = lake_text(s), warehouse_text(s), log_text(s, caplog)
    assert "person_name_" in warehouse and "phone_" in lake  # the pseudonyms are there...
    for where, text in (("lake", lake), ("warehouse", warehouse), ("logs", logs)):
        # Counted, not listed: a failing test must not print the values either.
        leaked = sum(1 for v in secrets if v in text)
        assert leaked == 0, f"{leaked} clear personal value(s) in the {where}"
    # ...and the hazmat plates, which police.md allows in clear, are kept for tracing
    plates = set(generated["hazmat_plates"]) | set(extra["hazmat_plates"])
    assert plates and all(p in warehouse for p in plates)


# --- citizen IDs: validated before pseudonymising (GB 11643-1999) -------------------------------

VALID_ID = "210381199001011233"  # 海城市, born 1990-01-01, check character 3
INVALID_ID = "210381199001011234"  # the same with a wrong check character


def _alarm_row(alarm_id: str, citizen_id: str, name: str, phone: str) -> list[str]:
    from standins.police.alarms import HEADER

    cells = {
        "接警编号": alarm_id,
        "接警时间": "2026-11-28 13:05:22",
        "报警方式": "电话",
        "报警人姓名": name,
        "报警人联系电话": phone,
        "报警人证件号码": citizen_id,
        "事发地址": "海城市西柳镇于家台村3组",
        "所属辖区代码": "210381112000",
        "经度": "122.583",
        "纬度": "40.962",
        "警情类别代码": "0401",
        "警情类别名称": "建筑火灾",
        "简要警情": "仓库冒烟",
        "处警单位": "海城市消防救援大队",
        "派警时间": "2026/11/28 13:07",
        "到场时间": "2026/11/28 13:20",
        "处置结果": "明火已扑灭",
        "反馈时间": "2026/11/28 14:30",
    }
    return [cells[h] for h in HEADER]


def test_an_invalid_citizen_id_is_flagged_and_a_valid_one_pseudonymised(police, caplog) -> None:
    from standins.police.alarms import HEADER
    from standins.police.drop import encode_csv, marker_bytes

    from edp.quality.samples import batch_sql
    from expectations import SUITES
    from tests.support.weather_tables import schedules

    s, drop = police
    # given: the bureau's file with one alarm whose caller ID has a wrong check character, one valid
    rows = [
        _alarm_row("J2103812026112800001", INVALID_ID, "王小明", "13812345678"),
        _alarm_row("J2103812026112800002", VALID_ID, "李红", "13987654321"),
    ]
    data = encode_csv(HEADER, rows)
    (drop / "JJXX_20261128.csv").write_bytes(data)
    (drop / "JJXX_20261128.csv.ok").write_bytes(marker_bytes(data, len(rows)))
    # when
    with caplog.at_level(logging.DEBUG):
        result = ingest("police", s, until=UNTIL)
        replay(s, "police")
    # then: both rows load; the invalid number is flagged with no pseudonym, the valid one is pseudonymised
    assert result["quarantined"] == 0
    with engine(s).connect() as c:
        got = {
            r.alarm_id: r
            for r in c.execute(
                sa.text(
                    "select alarm_id, caller_id_status, caller_id_pseudonym, caller_id_masked, source_file, "
                    "source_row from raw.police__alarms"
                )
            )
        }
        quarantine = c.execute(sa.text("select count(*) from ops.quarantine")).scalar()
    flagged, good = got["J2103812026112800001"], got["J2103812026112800002"]
    assert flagged.caller_id_status == "bad_check_digit"
    assert flagged.caller_id_pseudonym is None and flagged.caller_id_masked is None
    assert good.caller_id_status == "valid" and good.caller_id_pseudonym.startswith("citizen_id_")
    assert good.caller_id_masked == "2103**********1233"
    assert quarantine == 0
    # the finding: the connector's warning names file, row and field; the raw suite's rule lists the row
    assert "JJXX_20261128.csv data row 1 field 报警人证件号码" in caplog.text and "bad_check_digit" in caplog.text
    entry = SUITES["raw.police__alarms"]
    rule = next(e for e in entry.build(schedules()).expectations if e.meta["rule_id"] == "caller_id_valid")
    query = rule.unexpected_rows_query
    with engine(s).connect() as c:
        found = c.execute(sa.text(query.format(batch=batch_sql(entry, query)))).mappings().all()
    assert [(r["alarm_id"], r["source_file"], r["source_row"], r["caller_id_status"]) for r in found] == [
        ("J2103812026112800001", "JJXX_20261128.csv", 1, "bad_check_digit")
    ]
    # and no clear value anywhere: lake (landing, Parquet, quarantine), warehouse (raw, ops), logs
    lake, warehouse, logs = lake_text(s), warehouse_text(s), log_text(s, caplog)
    assert "citizen_id_" in warehouse
    for where, text in (("lake", lake), ("warehouse", warehouse), ("logs", logs)):
        for clear in (INVALID_ID, VALID_ID, "王小明", "13812345678", "李红", "13987654321"):
            assert clear not in text, f"a clear personal value in the {where}"
