"""应急管理局 register inbox (stand-in) → lake → raw, against a real PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from standins.bureau import WRONG_HEADER, populate, upload_version

from connectors.bureau.source import parse_cursor
from connectors.http import SourceUnavailable
from edp.orchestration.pipeline import ingest
from edp.settings import Settings
from edp.storage import ops
from edp.storage.warehouse import engine
from tests.support.platform_scan import clear_values_found
from tests.support.sources import point_at
from tests.support.warehouse import count, rows

pytestmark = pytest.mark.integration
UPLOADED = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
UNTIL = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
DATASETS = (
    "material_stock",
    "rescue_teams",
    "chemical_enterprises",
    "safety_hazards",
    "division_facts",
    "disaster_informants",
    "event_reports",
)


@pytest.fixture
def inbox(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Path]:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return point_at(monkeypatch, "bureau", folder.as_uri()), folder


def rows_in(s: Settings, dataset: str) -> int:
    return count(s, f"select count(*) from raw.bureau__{dataset}")


def test_ingest_twice_adds_nothing_and_a_new_version_adds_one_whole_version(inbox) -> None:
    s, folder = inbox
    info = populate(folder, seed=4, scale=1.0, uploaded_at=UPLOADED)
    first = ingest("bureau", s, until=UNTIL)
    assert first["quarantined"] == 0
    for dataset in DATASETS:
        assert rows_in(s, dataset) == info["registers"][dataset]["rows"]
        files = parse_cursor(ops.get_cursor(s, "bureau", dataset))
        assert list(files) == [f"{Path(info['registers'][dataset]['path']).name}"]
    assert count(s, "select count(distinct _batch_id) from raw.bureau__material_stock") == 1

    second = ingest("bureau", s, until=UNTIL)
    assert second["rows"] == 0
    for dataset in DATASETS:
        assert rows_in(s, dataset) == info["registers"][dataset]["rows"]

    later = datetime(2026, 11, 28, 5, tzinfo=UTC)
    v2 = upload_version(
        folder,
        "应急物资储备台账",
        seed=4,
        version=2,
        uploaded_at=later,
        base_date=date.fromisoformat(info["base_date"]),
    )
    third = ingest("bureau", s, until=datetime(2026, 11, 28, 6, tzinfo=UTC))
    assert third["rows"] == v2["rows"]
    assert rows_in(s, "material_stock") == info["registers"]["material_stock"]["rows"] + v2["rows"]
    for dataset in DATASETS[1:]:
        assert rows_in(s, dataset) == info["registers"][dataset]["rows"]
    versions = rows(
        s,
        "select workbook_version, count(*) as n, min(uploaded_at) as uploaded_at "
        "from raw.bureau__material_stock group by 1 order by 3",
    )
    moved = count(
        s,
        "select count(*) from raw.bureau__material_stock a join raw.bureau__material_stock b "
        "on a.depot_code = b.depot_code and a.material_code = b.material_code and a.spec = b.spec "
        "and a.workbook_version <> b.workbook_version and a.uploaded_at < b.uploaded_at "
        "where a.quantity <> b.quantity",
    )
    assert [v["n"] for v in versions] == [info["registers"]["material_stock"]["rows"], v2["rows"]]
    assert versions[1]["uploaded_at"] == later and moved > 0  # the later version is whole, with its stock changes


def test_values_arrive_typed_and_normalised(inbox) -> None:
    s, folder = inbox
    populate(folder, seed=4, scale=1.0, uploaded_at=UPLOADED)
    ingest("bureau", s, until=UNTIL)
    with engine(s).connect() as c:
        units = set(c.execute(sa.text("select distinct unit from raw.bureau__material_stock")).scalars())
        raw_units = set(c.execute(sa.text("select distinct unit_raw from raw.bureau__material_stock")).scalars())
        codes = c.execute(
            sa.text(
                "select count(*) filter (where division_code !~ '^210381[0-9]{3}000$'), "
                "count(*) filter (where material_code !~ '^[123][0-9]{6}$'), count(*) filter (where quantity is null) "
                "from raw.bureau__material_stock"
            )
        ).one()
        population = c.execute(
            sa.text("select sum(population) from raw.bureau__division_facts where division_code like '%000'")
        ).scalar_one()
        villages = c.execute(
            sa.text("select sum(population) from raw.bureau__division_facts where division_code not like '%000'")
        ).scalar_one()
        posts = c.execute(sa.text("select distinct post from raw.bureau__disaster_informants")).scalars().all()
        overdue = c.execute(
            sa.text(
                "select count(*) from raw.bureau__safety_hazards where rectification_status in ('未整改', '整改中') "
                "and deadline_date < date '2026-11-28'"
            )
        ).scalar_one()
    assert {"顶", "件", "箱", "吨"} <= units and not {"t", "T", "頂"} & units
    assert {"t", "頂"} & raw_units  # the spelling as written is kept beside
    assert tuple(codes) == (0, 0, 0)
    assert 900_000 < population < 1_100_000 and overdue > 0
    assert abs(villages - population) < 1_000  # the stand-in villages partition their towns' population
    assert set(posts) == {"A岗", "B岗"}


def test_event_report_times_arrive_as_beijing_time_and_reporters_pseudonymised(inbox) -> None:
    from standins.bureau.generate import GENERATORS

    s, folder = inbox
    info = populate(folder, seed=4, scale=1.0, uploaded_at=UPLOADED)
    ingest("bureau", s, until=UNTIL)
    base = date.fromisoformat(info["base_date"])
    written = {r["报告编号"]: r for r in GENERATORS["event_reports"](4, 1.0, 1, base, base)}
    loaded = rows(
        s,
        "select report_code, reported_time, occurred_time, event_category_code, reporter_masked "
        "from raw.bureau__event_reports",
    )
    assert len(loaded) == len(written) > 20
    shanghai = ZoneInfo("Asia/Shanghai")
    for row in loaded:
        typed = written[row["report_code"]]
        assert row["reported_time"] == typed["报告时间"].replace(tzinfo=shanghai)
        assert row["occurred_time"] == typed["事发时间"].replace(tzinfo=shanghai)
        assert row["reporter_masked"] == typed["填报人"][0] + "*" * (len(typed["填报人"]) - 1)
    assert {r["event_category_code"][:2] for r in loaded} == {"11", "12", "13", "14"}


def test_a_wrong_header_rejects_that_workbook_only_naming_the_columns(inbox) -> None:
    s, folder = inbox
    info = populate(folder, seed=4, uploaded_at=UPLOADED)
    upload_version(folder, "rescue_teams", seed=4, version=1, uploaded_at=UPLOADED, faults={"wrong_header": True})
    result = ingest("bureau", s, until=UNTIL)
    assert result["quarantined"] == 1
    assert rows_in(s, "rescue_teams") == 0
    for dataset in DATASETS:
        if dataset != "rescue_teams":
            assert rows_in(s, dataset) == info["registers"][dataset]["rows"]
    with engine(s).connect() as c:
        (entry,) = c.execute(sa.text("select dataset, field, reason, locator from ops.quarantine")).mappings().all()
    dropped, renamed, new_name = WRONG_HEADER["rescue_teams"]
    assert entry["dataset"] == "rescue_teams" and entry["field"] == "header"
    assert "救援队伍台账.xlsx" in entry["reason"] and "header row 3" in entry["reason"]
    assert f"missing column(s): {dropped}, {renamed}" in entry["reason"]
    assert f"unknown column(s): {new_name}" in entry["reason"]
    # The rejected version is remembered: the next pull does not quarantine it again...
    assert ingest("bureau", s, until=UNTIL)["quarantined"] == 0
    # ...and a corrected upload loads.
    fixed = upload_version(
        folder, "rescue_teams", seed=4, version=1, uploaded_at=datetime(2026, 11, 28, 1, 30, tzinfo=UTC)
    )
    ingest("bureau", s, until=UNTIL)
    assert rows_in(s, "rescue_teams") == fixed["rows"]


def test_malformed_and_duplicate_rows_are_quarantined_or_counted_and_nothing_is_lost(inbox) -> None:
    s, folder = inbox
    info = populate(folder, seed=9, uploaded_at=UPLOADED, faults={"malformed_rate": 0.04, "duplicate_rate": 0.03})
    result = ingest("bureau", s, until=UNTIL)
    expected_bad = sum(len(r["malformed"]) for r in info["registers"].values())
    assert expected_bad > 0 and result["quarantined"] == expected_bad
    with engine(s).connect() as c:
        quarantined = c.execute(sa.text("select dataset, locator, field, reason, record from ops.quarantine")).all()
    for dataset in DATASETS:
        written = info["registers"][dataset]
        assert rows_in(s, dataset) == written["rows"]
        (b,) = [b for b in ops.batches(s, source="bureau") if b["dataset"] == dataset]
        assert b["source_rows"] == written["rows_written"]
        assert b["source_rows"] == b["row_count"] + b["quarantined_count"] + b["duplicate_count"]
        bad_rows = {(m["row"]) for m in written["malformed"]}
        assert {q.record["row_number"] for q in quarantined if q.dataset == dataset} == bad_rows
    assert all(q.reason and q.field and q.locator.startswith(f"landing/bureau/{q.dataset}/") for q in quarantined)


def test_no_clear_personal_value_reaches_lake_warehouse_or_logs(inbox, caplog) -> None:
    s, folder = inbox
    caplog.set_level(logging.DEBUG)
    info = populate(folder, seed=6, uploaded_at=UPLOADED, faults={"malformed_rate": 0.05})
    upload_version(
        folder,
        "chemical_enterprises",
        seed=6,
        version=2,
        uploaded_at=datetime(2026, 11, 28, 1, 30, tzinfo=UTC),
        faults={"wrong_header": True},
        file_name="危险化学品企业台账_v2.xlsx",
    )
    ingest("bureau", s, until=UNTIL)
    clear = [*info["personal"]]
    phones = [p for p in clear if p.isdigit()]
    assert len(phones) > 50 and len(clear) - len(phones) > 50
    # Phones written with dashes or spaces in the workbooks, too.
    clear += [f"{p[:3]}-{p[3:7]}-{p[7:]}" for p in phones] + [f"{p[:3]} {p[3:7]} {p[7:]}" for p in phones]
    assert clear_values_found(s, clear, caplog) == []
    with engine(s).connect() as c:
        masked = c.execute(sa.text("select leader_masked, phone_masked from raw.bureau__rescue_teams limit 1")).one()
    assert masked[0].endswith("**") and "****" in masked[1]


def test_a_missing_inbox_is_a_clear_error(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = point_at(monkeypatch, "bureau", str(tmp_path / "nowhere"))
    with pytest.raises(SourceUnavailable, match=r"inbox .*nowhere does not exist"):
        ingest("bureau", s, until=UNTIL)
    assert count(s, "select count(*) from ops.batches") == 0


def _body(s: Settings, key: str) -> dict[str, Any]:
    import gzip

    from edp.storage.lake import open_lake

    return json.loads(gzip.decompress(open_lake(s).get_bytes(key)))


def test_the_lake_keeps_a_pseudonymised_rendering_per_version(inbox) -> None:
    s, folder = inbox
    populate(folder, seed=4, uploaded_at=UPLOADED)
    ingest("bureau", s, until=UNTIL)
    (b,) = [b for b in ops.batches(s, source="bureau") if b["dataset"] == "rescue_teams"]
    from edp.ingest.extract import Manifest
    from edp.storage.lake import open_lake

    manifest = Manifest.from_json(open_lake(s).get_bytes(b["manifest_key"]))
    (key,) = manifest.landing_keys
    body = _body(s, key)
    assert key.endswith(".json.gz") and body["source_file"] == "救援队伍台账.xlsx"
    assert body["dropped"]["note_rows"] == 3 and body["header_row"] == 3
    assert {"leader_pseudonym", "leader_masked", "phone_pseudonym", "phone_masked"} <= set(body["rows"][0])
    assert "leader" not in body["rows"][0] and "负责人" not in json.dumps(body["rows"], ensure_ascii=False)
