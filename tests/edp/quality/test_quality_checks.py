"""`edp check` end to end: GX against PostgreSQL, results in `audit`, Data Docs in the lake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edp.quality import data_docs as quality_docs
from edp.quality.runner import UNREADABLE, dataset_status, run_checks
from edp.settings import Settings
from expectations import Dimension, Severity
from tests.support.weather_tables import (
    MART,
    RAW,
    STATIONS_TABLE,
    blocking_count,
    extreme,
    insert,
    observation,
    rule_count,
    this_hour,
)

pytestmark = pytest.mark.integration

CHECKED = [RAW, STATIONS_TABLE, MART]


def _lake_file(settings: Settings, key: str) -> Path:
    return settings.home / "lake" / key


def _failed(sql, run_id: str, dataset: str | None = None) -> dict:
    rows = sql(
        "select * from audit.expectation_results where run_id = :r and not success "
        "and (cast(:d as text) is null or dataset = :d) order by id",
        r=run_id,
        d=dataset,
    )
    return {r.expectation_id: r for r in rows}


def test_clean_tables_pass_and_are_recorded(weather_tables: Settings, sql) -> None:
    run = run_checks(weather_tables, CHECKED)

    assert run.success, run.summary_lines()
    assert run.pass_rate == 1.0
    for name in CHECKED:
        s, n = run.datasets[name], rule_count(name)
        assert (s.evaluated, s.passed, s.failed_blocking, s.failed_warning) == (n, n, 0, 0)

    rows = sql(
        "select dataset, severity, dimension, dimension_zh, success, expectation_id, kwargs "
        "from audit.expectation_results where run_id = :r",
        r=run.run_id,
    )
    total = sum(rule_count(n) for n in CHECKED)
    assert len(rows) == total
    assert all(r.success for r in rows)
    assert {r.dimension for r in rows} <= {d.value for d in Dimension}
    assert all(r.dimension_zh for r in rows)
    assert sum(r.severity == Severity.BLOCKING for r in rows) == sum(blocking_count(n) for n in CHECKED)
    assert len({(r.dataset, r.expectation_id) for r in rows}) == len(rows)  # stable ids, one per rule
    assert "batch_id" not in rows[0].kwargs
    # Accessibility is an evaluation of its own: one passed readability check per dataset.
    assert sum(r.expectation_id == "table_is_readable" for r in rows) == len(CHECKED)

    (check_run,) = sql("select * from audit.check_runs where run_id = :r", r=run.run_id)
    assert check_run.success is True
    assert (check_run.evaluated, check_run.passed) == (total, total)
    assert sorted(check_run.datasets) == sorted(CHECKED)
    assert check_run.data_docs_uri == run.data_docs_uri

    index = _lake_file(weather_tables, "quality/docs/index.html")
    assert run.data_docs_uri == index.resolve().as_uri()
    assert "weather__observations" in index.read_text(encoding="utf-8")
    raw = run.datasets[RAW]
    assert raw.docs_uri is not None and raw.docs_uri.startswith(f"{index.parent.resolve().as_uri()}/validations/")
    assert Path(raw.docs_uri.removeprefix("file://")).is_file()
    assert dataset_status(weather_tables, CHECKED) == dict.fromkeys(CHECKED, "ok")


def test_bad_batch_blocks_and_a_correcting_batch_lifts_the_block(weather_tables: Settings, sql) -> None:
    settings = weather_tables
    first = run_checks(settings, [RAW])
    assert first.success

    # batch-3 re-sends an hour with an impossible value; the bureau's own qc=2 row is not held against raw.
    insert(settings, RAW, [
        observation("54471", 2, "batch-3", precip_1h_mm=-5.0, updated_at=this_hour() - timedelta(minutes=20)),
        observation("A3818", 2, "batch-3", precip_1h_mm=-7.0, qc=2, updated_at=this_hour() - timedelta(minutes=20)),
    ])  # fmt: skip
    bad = run_checks(settings, [RAW])

    assert not bad.success
    raw = bad.datasets[RAW]
    assert (raw.evaluated, raw.failed_blocking, raw.failed_warning) == (rule_count(RAW), 1, 0)
    # A row-level rule: the failing record is held back, the rest of the dataset may be published.
    assert (raw.status, raw.held_rows) == ("held", 1)
    assert dataset_status(settings, [RAW]) == {RAW: "held"}
    assert any("precip_1h_mm_in_range" in line for line in bad.summary_lines())
    precip = _failed(sql, bad.run_id)["precip_1h_mm_in_range"]
    assert (precip.severity, precip.dimension, precip.column_name) == ("blocking", "accuracy", "precip_1h_mm")
    assert precip.unexpected_count == 1
    (sample,) = precip.unexpected_sample
    assert (sample["station_id"], sample["_batch_id"], sample["precip_1h_mm"]) == ("54471", "batch-3", -5.0)
    assert precip.failed_batches == ["batch-3"]

    # The bureau corrects the hour: batch-4 carries the right value, history stays as it was.
    insert(settings, RAW, [
        observation("54471", 2, "batch-4", precip_1h_mm=0.4, updated_at=this_hour() - timedelta(minutes=5),
                    _extracted_at=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)),
    ])  # fmt: skip
    fixed = run_checks(settings, [RAW])

    assert fixed.success, fixed.summary_lines()
    assert dataset_status(settings, [RAW]) == {RAW: "ok"}
    assert sql("select count(*) from raw.weather__observations where _batch_id = 'batch-3'")[0][0] == 2
    counts = dict(sql("select run_id, count(*) from audit.expectation_results group by run_id"))
    assert counts == {first.run_id: rule_count(RAW), bad.run_id: rule_count(RAW), fixed.run_id: rule_count(RAW)}
    assert len(_failed(sql, bad.run_id)) == 1  # the failure is still on record
    assert [r.success for r in sql("select success from audit.check_runs order by started_at")] == [True, False, True]


def test_times_in_the_future_are_caught(weather_tables: Settings, sql) -> None:
    insert(weather_tables, RAW, [observation("A3817", -2, "batch-3")])  # two hours ahead of now

    run = run_checks(weather_tables, [RAW])

    future = _failed(sql, run.run_id)["obs_time_not_future"]
    assert future.unexpected_count == future.observed_value == 1
    (sample,) = future.unexpected_sample
    assert (sample["station_id"], sample["_batch_id"]) == ("A3817", "batch-3")
    assert future.failed_batches == ["batch-3"]


def test_warning_is_recorded_but_does_not_block(weather_tables: Settings, sql) -> None:
    sql("update marts.fct_weather_hourly_extremes set station_count = 3 where division_code = '210381002000' "
        "and obs_hour = :h", h=this_hour() - timedelta(hours=1))  # fmt: skip

    run = run_checks(weather_tables, [MART])

    mart = run.datasets[MART]
    assert (mart.evaluated, mart.failed_blocking, mart.failed_warning) == (rule_count(MART), 0, 1)
    assert run.success
    assert dataset_status(weather_tables, [MART]) == {MART: "ok"}
    (row,) = sql("select * from audit.expectation_results where run_id = :r and not success", r=run.run_id)
    assert (row.expectation_id, row.severity, row.dimension) == ("obs_count_covers_stations", "warning", "consistency")
    assert row.unexpected_count == 1
    assert row.unexpected_sample[0]["hourly_extreme_id"].startswith("210381002000-")


def test_mart_rows_must_trace_back_to_raw(weather_tables: Settings, sql) -> None:
    # Three hours ahead, and no observation behind it.
    insert(weather_tables, MART, [extreme("210381004000", "东四街道", -3, station_count=1, obs_count=1)])

    run = run_checks(weather_tables, [MART])

    assert not run.success
    failed = _failed(sql, run.run_id)
    assert set(failed) == {"obs_hour_not_future", "obs_count_traced_to_raw"}
    assert [r["division_code"] for r in failed["obs_hour_not_future"].unexpected_sample] == ["210381004000"]
    (untraced,) = failed["obs_count_traced_to_raw"].unexpected_sample
    assert untraced["hourly_extreme_id"].startswith("210381004000-")
    assert (untraced["obs_count"], untraced["raw_obs_count"]) == (1, None)

    # An observation dropped from the mart (raw has it) is named with the raw batch that brought it.
    sql("delete from marts.fct_weather_hourly_extremes where division_code = '210381004000'")
    sql("update marts.fct_weather_hourly_extremes set obs_count = 1, station_count = 1 "
        "where division_code = '210381001000' and obs_hour = :h", h=this_hour() - timedelta(hours=3))  # fmt: skip
    again = run_checks(weather_tables, [MART])
    (short,) = _failed(sql, again.run_id)["obs_count_traced_to_raw"].unexpected_sample
    assert (short["obs_count"], short["raw_obs_count"], short["_batch_id"]) == (1, 2, "batch-1")


def test_unreadable_table_blocks_its_dataset_only(weather_tables: Settings, sql) -> None:
    sql("drop table marts.fct_weather_hourly_extremes")

    run = run_checks(weather_tables, [RAW, MART])

    assert not run.success
    mart = run.datasets[MART]
    assert (mart.evaluated, mart.failed_blocking) == (1, 1)
    assert run.datasets[RAW].passed == rule_count(RAW)
    (row,) = sql("select * from audit.expectation_results where run_id = :r and dataset = :d", r=run.run_id, d=MART)
    assert (row.expectation_type, row.dimension, row.severity) == (UNREADABLE, "accessibility", "blocking")
    assert "fct_weather_hourly_extremes" in row.exception
    assert dataset_status(weather_tables, [RAW, MART]) == {RAW: "ok", MART: "blocked"}


def test_volume_and_freshness_warn_without_blocking(weather_tables: Settings, sql) -> None:
    # Earlier pulls landed about 100 rows each, the latest only 5 (all of them already in raw); all long ago.
    # Previous batches, newest first: 104, 96, 100 and the fixture's 3 and 10: median 96.
    long_ago = datetime.now(UTC) - timedelta(hours=5)
    sql("update ops.batches set extracted_at = extracted_at - interval '5 hours' where dataset = 'observations'")
    sql("update raw.weather__observations set _extracted_at = _extracted_at - interval '5 hours'")
    for n, rows in enumerate((100, 96, 104, 5)):
        sql(
            "insert into ops.batches (batch_id, source, dataset, status, source_rows, row_count, inserted_count, "
            "unchanged_count, quarantined_count, duplicate_count, manifest_key, extracted_at) values "
            "(:b, 'weather', 'observations', 'loaded', :n, :n, 0, :n, 0, 0, 'm', :at)",
            b=f"history-{n}",
            n=rows,
            at=long_ago + timedelta(minutes=n),
        )

    run = run_checks(weather_tables, [RAW])

    assert run.success
    failed = _failed(sql, run.run_id)
    assert set(failed) == {"volume_in_line", "fresh_per_schedule"}
    (volume,) = failed["volume_in_line"].unexpected_sample
    assert (volume["_batch_id"], volume["row_count"], volume["median_previous"]) == ("history-3", 5, 96)
    assert failed["fresh_per_schedule"].severity == "warning"
    assert failed["fresh_per_schedule"].dimension == "timeliness"


def test_second_run_copies_only_what_changed(weather_tables: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    copied: list[str] = []
    real_open = quality_docs.open_lake

    def counting_lake(settings: Settings):
        lake = real_open(settings)
        put = lake.put_bytes

        def put_bytes(key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
            copied.append(key)
            return put(key, data, content_type)

        lake.put_bytes = put_bytes  # type: ignore[method-assign]
        return lake

    monkeypatch.setattr(quality_docs, "open_lake", counting_lake)
    run_checks(weather_tables, [RAW, MART])
    first = list(copied)
    copied.clear()
    run_checks(weather_tables, [RAW, MART])

    assert any(k.startswith("quality/docs/static/") for k in first)
    assert not any(k.startswith("quality/docs/static/") for k in copied)
    assert copied[-1] == "quality/docs/index.html"  # the index goes last
    assert sum(k.startswith("quality/docs/validations/") for k in copied) == 2  # this run's two pages
    # Both runs' pages are in the lake (and listed by the index).
    pages = list((weather_tables.home / "lake" / "quality/docs/validations").rglob("*.html"))
    assert len(pages) == 4


def test_never_checked_datasets_are_unchecked(weather_tables: Settings) -> None:
    assert dataset_status(weather_tables, [RAW, MART]) == {RAW: "unchecked", MART: "unchecked"}


def test_letter_prefixed_codes_refused_before_are_judged_again(settings: Settings, sql) -> None:
    """Verdicts recorded when GB 32100's letters in characters 1-2 were refused are corrected; others stay."""
    from edp.quality.uscc import refresh

    sql(
        "insert into audit.credit_codes (code, is_valid, reason) values "
        "('N2210381MA0XXXXX14', false, 'old'), ('N2210381MA0XXXXX15', false, 'old'), "
        "('91210381MA0QCK9W5N', false, 'kept')"
    )
    refresh(settings, [])
    verdicts = {r.code: (r.is_valid, r.reason) for r in sql("select code, is_valid, reason from audit.credit_codes")}
    assert verdicts["N2210381MA0XXXXX14"] == (True, None)
    assert verdicts["N2210381MA0XXXXX15"] == (False, "check_character_mismatch")
    assert verdicts["91210381MA0QCK9W5N"] == (False, "kept")
