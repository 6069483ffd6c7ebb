"""Reconciliation: a batch that does not add up is a blocking failure that names the batch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from connectors.police.source import ALARMS
from edp.ingest.loader import ensure_raw_table
from edp.quality.runner import dataset_status, run_checks
from edp.settings import Settings
from edp.storage.warehouse import engine
from tests.support.weather_tables import RAW, insert, observation

pytestmark = pytest.mark.integration

ALARMS_TABLE = "raw.police__alarms"


def _reconciliation(sql, run_id: str, dataset: str = RAW):
    rows = sql(
        "select * from audit.expectation_results where run_id = :r and dataset = :d "
        "and expectation_id = 'batches_reconciled'",
        r=run_id,
        d=dataset,
    )
    return rows[0]


def test_raw_missing_rows_of_a_batch_names_it(weather_tables: Settings, sql) -> None:
    sql("delete from raw.weather__observations where _batch_id = 'batch-1' and station_id = '54471' "
        "and obs_time = (select min(obs_time) from raw.weather__observations where station_id = '54471')")  # fmt: skip

    run = run_checks(weather_tables, [RAW])

    assert not run.success
    result = _reconciliation(sql, run.run_id)
    assert (result.success, result.severity, result.dimension) == (False, "blocking", "completeness")
    (row,) = result.unexpected_sample
    assert row["_batch_id"] == "batch-1"
    assert row["problem"] == "raw holds 9 rows of the batch, inserted 10"
    assert result.failed_batches == ["batch-1"]
    assert any("batches_reconciled" in line for line in run.summary_lines())
    assert dataset_status(weather_tables, [RAW]) == {RAW: "blocked"}


def test_source_answer_that_does_not_add_up_names_the_batch(weather_tables: Settings, sql) -> None:
    sql("update ops.batches set source_rows = source_rows + 2 where batch_id = 'batch-2'")
    sql("update ops.batches set unchanged_count = 1 where batch_id = 'batch-1'")

    run = run_checks(weather_tables, [RAW])

    problems = {r["_batch_id"]: r["problem"] for r in _reconciliation(sql, run.run_id).unexpected_sample}
    assert problems == {
        "batch-1": "landed 10 <> inserted 10 + unchanged 1",
        "batch-2": "source_rows 5 <> landed 3 + quarantined 0 + duplicates 0",
    }


def test_rows_of_a_batch_the_loader_never_loaded_are_named(weather_tables: Settings, sql) -> None:
    # Written around the loader (a manual fix, another tool): raw has it, ops.batches does not.
    insert(weather_tables, RAW, [observation("A3817", 6, "manual-fix")], register=False)

    run = run_checks(weather_tables, [RAW])

    (row,) = _reconciliation(sql, run.run_id).unexpected_sample
    assert row["_batch_id"] == "manual-fix" and row["rows_in_raw"] == 1
    assert "not loaded by the loader" in row["problem"]


def test_quarantine_and_replay_reconcile(weather_tables: Settings, sql) -> None:
    # batch-1 had two records quarantined; a later replay loaded one of them, the other stays quarantined.
    sql("update ops.batches set source_rows = source_rows + 2, quarantined_count = 2 where batch_id = 'batch-1'")
    for n in (1, 2):
        sql(
            "insert into ops.quarantine (source, dataset, batch_id, locator, reason, record) values "
            "('weather', 'observations', 'batch-1', :loc, 'expected float', '{}')",
            loc=f"landing page record {n}",
        )
    replayed = observation("A3817", 7, "replay-1")
    insert(weather_tables, RAW, [replayed])
    sql("update ops.batches set origin = 'replay', source_rows = 2 where batch_id = 'replay-1'")
    sql("update ops.quarantine set replayed_at = now(), replay_batch_id = 'replay-1' "
        "where locator = 'landing page record 1'")  # fmt: skip

    assert run_checks(weather_tables, [RAW]).success

    # A replay that claims more rows than the quarantine records it took does not reconcile.
    # (A hand edit of a batch already checked: a full check sees it, an incremental one does not look.)
    sql("update ops.batches set row_count = 2, inserted_count = 2 where batch_id = 'replay-1'")
    run = run_checks(weather_tables, [RAW], full=True)
    problems = {r["_batch_id"]: r["problem"] for r in _reconciliation(sql, run.run_id).unexpected_sample}
    assert problems == {
        "replay-1": "replayed records 1 <> landed 2 + duplicates 0; raw holds 1 rows of the batch, inserted 2"
    }


def _alarm(alarm_id: str, batch: str, extracted: datetime, day: date) -> dict:
    return {
        "alarm_id": alarm_id, "received_at": extracted - timedelta(hours=3), "division_code": "210381001000",
        "lon": 122.75, "lat": 40.85, "coord_status": "ok", "category_code": "0301", "report_channel": "电话",
        "report_date": day, "source_file": f"alarms_{day:%Y%m%d}.csv", "_batch_id": batch,
        "_extracted_at": extracted, "_source": "police",
    }  # fmt: skip


def test_a_resent_day_may_replace_rows_of_an_earlier_batch(weather_tables: Settings, sql) -> None:
    """police.alarms loads with replace_by=report_date: a later file of the day replaces the day."""
    settings = weather_tables
    with engine(settings).begin() as c:
        ensure_raw_table(c, ALARMS)
    day = (datetime.now(UTC) - timedelta(days=1)).date()
    first, second = datetime.now(UTC) - timedelta(hours=2), datetime.now(UTC) - timedelta(hours=1)
    insert(settings, ALARMS_TABLE, [_alarm(f"J2103812026000000{n:03d}", "alarms-1", first, day) for n in (1, 2, 3)])
    # The day is re-sent: the loader deleted alarms-1's rows of that day, then inserted the new file's.
    sql("delete from raw.police__alarms where _batch_id = 'alarms-1'")
    insert(settings, ALARMS_TABLE, [_alarm(f"J2103812026000000{n:03d}", "alarms-2", second, day) for n in (1, 2)])

    run = run_checks(settings, [ALARMS_TABLE])
    assert _reconciliation(sql, run.run_id, ALARMS_TABLE).success

    # Only a batch a later one superseded may hold fewer rows: the latest must hold all of its own.
    with engine(settings).begin() as c:
        c.execute(sa.text("delete from raw.police__alarms where alarm_id = 'J2103812026000000002'"))
    run = run_checks(settings, [ALARMS_TABLE], full=True)  # a hand edit under a checked batch: full check
    (row,) = _reconciliation(sql, run.run_id, ALARMS_TABLE).unexpected_sample
    assert (row["_batch_id"], row["problem"]) == ("alarms-2", "raw holds 1 rows of the batch, inserted 2")
