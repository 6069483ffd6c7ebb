"""Incremental check runs: only new batches (and earlier failures) are validated, with a full run's verdicts.

The weather fixture's raw observations (an incremental dataset: batch-1, and
batch-2 re-reading the latest hour) are checked once in full; later batches
are then validated on their own, a failing row is re-checked by every run
until a correction supersedes it, and a full check still runs when due. A failure whose batches no new row
touched is carried to the next run unread, with the counts a full run gives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from edp.quality.holds import held_records
from edp.quality.runner import CheckRun, dataset_status, run_checks
from edp.settings import Settings
from tests.support.weather_tables import EXTRACTED_MINUTES_AGO, RAW, STATIONS, insert, observation

pytestmark = pytest.mark.integration

Sql = Callable[..., list[sa.Row[Any]]]


@pytest.fixture
def later_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # batch-3 (10 min ago) after the fixture's batches; batch-4 after it, batch-5 last.
    monkeypatch.setitem(EXTRACTED_MINUTES_AGO, "batch-4", 5)
    monkeypatch.setitem(EXTRACTED_MINUTES_AGO, "batch-5", 2)


def scope(sql: Sql, run: CheckRun, dataset: str = RAW) -> sa.Row[Any]:
    return sql("select * from audit.check_scopes where run_id = :r and dataset = :d", r=run.run_id, d=dataset)[0]


def verdicts(sql: Sql, run: CheckRun, dataset: str = RAW) -> dict[str, tuple[bool, int | None]]:
    """Per rule: passed, and how many rows failed it (row rules)."""
    rows = sql(
        "select expectation_id, success, unexpected_count from audit.expectation_results "
        "where run_id = :r and dataset = :d",
        r=run.run_id,
        d=dataset,
    )
    return {r.expectation_id: (r.success, r.unexpected_count) for r in rows}


def element_count(sql: Sql, run: CheckRun, rule: str) -> int:
    (row,) = sql(
        "select element_count from audit.expectation_results where run_id = :r and dataset = :d "
        "and expectation_id = :e",
        r=run.run_id,
        d=RAW,
        e=rule,
    )
    return int(row.element_count)


def test_a_later_run_validates_only_new_batches_and_keeps_failures_until_corrected(
    weather_tables: Settings, sql: Sql, later_batches: None
) -> None:
    first = run_checks(weather_tables, [RAW])
    assert first.success
    assert (scope(sql, first).mode, scope(sql, first).reason) == ("full", "first check")
    assert {r.batch_id for r in sql("select batch_id from audit.checked_batches where dataset = :d", d=RAW)} == {
        "batch-1",
        "batch-2",
    }
    assert "full: every current row" in "\n".join(first.summary_lines())

    # Nothing new: nothing is validated, and the dataset is neither empty nor blocked.
    idle = run_checks(weather_tables, [RAW])
    assert (scope(sql, idle).mode, scope(sql, idle).batches) == ("incremental", 0)
    assert idle.success and element_count(sql, idle, "qc_known_code") == 0
    assert verdicts(sql, idle)["not_empty"][0]

    # A new batch with one unknown quality code: only its rows are validated, and they block.
    insert(weather_tables, RAW, [observation("A3817", 0, "batch-3", qc=7), observation("A3818", 0, "batch-3")])
    bad = run_checks(weather_tables, [RAW])
    assert (scope(sql, bad).mode, scope(sql, bad).batch_ids) == ("incremental", ["batch-3"])
    assert element_count(sql, bad, "qc_known_code") == 2
    assert verdicts(sql, bad)["qc_known_code"] == (False, 1)
    assert scope(sql, bad).carry == ["batch-3"]
    # A row-level rule: the record is held back (edp.quality.holds), not the dataset.
    assert dataset_status(weather_tables, [RAW]) == {RAW: "held"}
    assert [(h["rule_id"], h["record_key"]["station_id"]) for h in held_records(weather_tables, [RAW])] == [
        ("qc_known_code", "A3817")
    ]

    # Nothing new again: no row of the failing batch changed, so its failure is carried unread; the block stands.
    still = run_checks(weather_tables, [RAW])
    assert (scope(sql, still).batch_ids, scope(sql, still).carried_from) == ([], bad.run_id)
    assert verdicts(sql, still)["qc_known_code"] == (False, 1)
    assert scope(sql, still).carry == ["batch-3"]
    assert f"carried from run {bad.run_id}" in "\n".join(still.summary_lines())
    assert dataset_status(weather_tables, [RAW]) == {RAW: "held"}
    assert len(held_records(weather_tables, [RAW])) == 1

    # The department corrects the record in a later batch: the old version is no longer current,
    # so the failing batch is read again.
    insert(weather_tables, RAW, [observation("A3817", 0, "batch-4", qc=0)])
    fixed = run_checks(weather_tables, [RAW])
    assert scope(sql, fixed).batch_ids == ["batch-3", "batch-4"] and scope(sql, fixed).carried_from is None
    assert fixed.success and verdicts(sql, fixed)["qc_known_code"] == (True, 0)
    assert element_count(sql, fixed, "qc_known_code") == 2  # A3818 of batch-3, A3817 of batch-4
    assert scope(sql, fixed).carry == []
    assert dataset_status(weather_tables, [RAW]) == {RAW: "ok"}
    assert held_records(weather_tables, [RAW]) == []  # validated again and passing: released

    after = run_checks(weather_tables, [RAW])
    assert scope(sql, after).batches == 0 and after.success


def test_an_incremental_run_gives_a_full_runs_verdicts(weather_tables: Settings, sql: Sql, later_batches: None) -> None:
    run_checks(weather_tables, [RAW])
    # Two new batches: a bad code, a gust below the mean wind, an observation in the future; one
    # earlier key corrected with a bad value, and an unknown load batch's row that a full run sees.
    insert(
        weather_tables,
        RAW,
        [
            observation("A3817", 0, "batch-3", qc=7),
            observation("A3818", 0, "batch-3", wind_gust_ms=1.0),
            observation("54471", 1, "batch-4", qc=2, temp_c=99.0),
            observation("54471", -3, "batch-4"),
        ],
    )

    incremental = run_checks(weather_tables, [RAW])
    full = run_checks(weather_tables, [RAW], full=True)

    assert scope(sql, incremental).mode == "incremental" and scope(sql, full).mode == "full"
    assert scope(sql, full).reason == "asked for"
    found = verdicts(sql, incremental)
    assert not incremental.success
    assert {rule for rule, (ok, _) in found.items() if not ok} >= {"qc_known_code", "obs_time_not_future"}
    # Same verdict and the same failing rows for every rule; only how many rows were read differs.
    assert found == verdicts(sql, full)
    assert element_count(sql, incremental, "qc_known_code") == 4 < element_count(sql, full, "qc_known_code")


def test_a_full_check_runs_when_the_last_is_older_than_the_setting(weather_tables: Settings, sql: Sql) -> None:
    run_checks(weather_tables, [RAW])
    sql("update audit.check_scopes set checked_at = checked_at - interval '25 hours' where dataset = :d", d=RAW)

    due = run_checks(weather_tables, [RAW])

    assert (scope(sql, due).mode, scope(sql, due).reason) == ("full", "last full check 25 h ago")
    soon = weather_tables.model_copy(update={"check_full_every_hours": 0.0001})
    assert scope(sql, run_checks(soon, [RAW])).mode == "full"


def test_failures_that_name_too_many_rows_are_carried_until_a_row_changes(
    weather_tables: Settings, sql: Sql, later_batches: None
) -> None:
    run_checks(weather_tables, [RAW])
    now = datetime.now(UTC)
    # More failing rows than a sample holds (20): their batches cannot all be listed.
    rows = [observation(STATIONS[n % 3], 10 + n, "batch-3", qc=7) for n in range(25)]
    assert all(r["obs_time"] < now - timedelta(hours=9) for r in rows)
    insert(weather_tables, RAW, rows)

    bad = run_checks(weather_tables, [RAW])
    assert scope(sql, bad).carry_all and verdicts(sql, bad)["qc_known_code"] == (False, 25)

    # A new batch that changes no row of batch-3 (it corrects an older batch's row): batch-3's
    # failures are carried unread, and the new batch is read.
    insert(weather_tables, RAW, [observation("A3817", 0, "batch-5")])
    again = run_checks(weather_tables, [RAW])
    assert scope(sql, again).mode == "incremental"
    assert (scope(sql, again).batch_ids, scope(sql, again).carried_from) == (["batch-5"], bad.run_id)
    assert verdicts(sql, again)["qc_known_code"] == (False, 25)

    # A full run whose failures cannot be listed, then a quiet run: carried unread, with the full run's verdicts.
    full = run_checks(weather_tables, [RAW], full=True)
    assert scope(sql, full).carry_all
    quiet = run_checks(weather_tables, [RAW])
    assert (scope(sql, quiet).mode, scope(sql, quiet).carried_from) == ("incremental", full.run_id)
    passed = {rule: ok for rule, (ok, _) in verdicts(sql, quiet).items()}
    assert passed == {rule: ok for rule, (ok, _) in verdicts(sql, full).items()}
    failing = {rule: found for rule, found in verdicts(sql, full).items() if not found[0]}
    assert failing and failing == {rule: found for rule, found in verdicts(sql, quiet).items() if not found[0]}
    assert element_count(sql, quiet, "qc_known_code") == element_count(sql, full, "qc_known_code")

    # A correction of one failing row: its batch is unknown, so the next run reads everything again.
    insert(weather_tables, RAW, [observation(STATIONS[0], 10, "batch-4")])
    corrected = run_checks(weather_tables, [RAW])
    assert (scope(sql, corrected).mode, scope(sql, corrected).carried_from) == ("full", None)
    assert verdicts(sql, corrected)["qc_known_code"] == (False, 24)


def test_marts_and_snapshots_are_checked_whole(weather_tables: Settings, sql: Sql) -> None:
    run_checks(weather_tables, ["raw.weather__stations", "marts.fct_weather_hourly_extremes"])
    run = run_checks(weather_tables, ["raw.weather__stations", "marts.fct_weather_hourly_extremes"])

    for dataset in run.datasets:
        assert scope(sql, run, dataset).mode == "whole"
        assert run.datasets[dataset].scope == "whole table"
    assert not sql("select * from audit.checked_batches")


def test_a_reloaded_batch_is_checked_again(weather_tables: Settings, sql: Sql) -> None:
    run_checks(weather_tables, [RAW])
    # `edp load` of a loaded batch replaces its rows and stamps loaded_at anew, as here by hand.
    sql("update raw.weather__observations set qc = 7 where _batch_id = 'batch-2' and station_id = 'A3817'")
    sql("update ops.batches set loaded_at = now() where batch_id = 'batch-2'")

    run = run_checks(weather_tables, [RAW])

    assert scope(sql, run).batch_ids == ["batch-2"]
    assert verdicts(sql, run)["qc_known_code"] == (False, 1)


def test_a_full_check_reads_a_work_table_it_drops_and_old_ones_are_cleared(weather_tables: Settings, sql: Sql) -> None:
    # What a run killed two days ago left behind, and what a run of this minute (still going) holds.
    sql("create schema if not exists audit_work")
    old = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y%m%dT%H%M%SZ") + "_deadbeef_weather__observations"
    current = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "_cafebabe_weather__observations"
    for name in (old, current):
        sql(f'create table audit_work."{name}" (x int)')

    run = run_checks(weather_tables, [RAW], full=True)

    assert run.success and element_count(sql, run, "qc_known_code") == 10  # the 13 rows less batch-2's 3 re-reads
    left = {r.tablename for r in sql("select tablename from pg_tables where schemaname = 'audit_work'")}
    assert left == {current}


def test_gx_reads_the_work_table_as_a_table(
    weather_tables: Settings, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a query, GX fetches its whole result to learn the columns (4.4 GB of RSS for 10M rows).
    import edp.quality.runner as runner

    assets: dict[str, list[str]] = {}
    original = runner._checkpoint

    def spy(context: Any, source: Any, entry: Any, suite: Any, name: str) -> Any:
        checkpoint = original(context, source, entry, suite, name)
        assets.setdefault(entry.dataset, []).append(type(source.get_asset(entry.dataset)).__name__)
        return checkpoint

    monkeypatch.setattr(runner, "_checkpoint", spy)
    assert run_checks(weather_tables, [RAW], full=True).success  # full: every current row
    assert run_checks(weather_tables, [RAW]).success  # incremental: the current rows of new batches
    assert assets[RAW] == ["TableAsset", "TableAsset"]
    assert not list(sql("select tablename from pg_tables where schemaname = 'audit_work'"))
