"""`edp check` end to end: GX against PostgreSQL, results in `audit`, Data Docs in the lake."""

from __future__ import annotations

from pathlib import Path

import pytest

from edp import quality_docs
from edp.quality import UNREADABLE, dataset_status, run_checks
from edp.settings import Settings
from expectations import Dimension, Severity
from tests.quality.conftest import MART, RAW, extreme, insert, observation

pytestmark = pytest.mark.integration

# Follow from the suites: raw has 17 rules (14 blocking), the mart 11 (8 blocking; its key is dbt's to test).
RAW_RULES, MART_RULES = 17, 11


def _lake_file(settings: Settings, key: str) -> Path:
    return settings.home / "lake" / key


def test_clean_tables_pass_and_are_recorded(weather_tables: Settings, sql) -> None:
    run = run_checks(weather_tables)

    assert run.success
    assert run.pass_rate == 1.0
    raw, mart = run.datasets[RAW], run.datasets[MART]
    assert (raw.evaluated, raw.passed, raw.failed_blocking, raw.failed_warning) == (RAW_RULES, RAW_RULES, 0, 0)
    assert (mart.evaluated, mart.passed, mart.failed_blocking, mart.failed_warning) == (MART_RULES, MART_RULES, 0, 0)

    rows = sql(
        "select dataset, severity, dimension, dimension_zh, success, expectation_id, kwargs "
        "from audit.expectation_results where run_id = :r",
        r=run.run_id,
    )
    assert len(rows) == RAW_RULES + MART_RULES
    assert all(r.success for r in rows)
    assert {r.dimension for r in rows} <= {d.value for d in Dimension}
    assert all(r.dimension_zh for r in rows)
    assert sum(r.severity == Severity.BLOCKING for r in rows) == 14 + 8
    assert sum(r.severity == Severity.WARNING for r in rows) == 3 + 3
    assert len({(r.dataset, r.expectation_id) for r in rows}) == len(rows)  # stable ids, one per rule
    assert "batch_id" not in rows[0].kwargs

    (check_run,) = sql("select * from audit.check_runs where run_id = :r", r=run.run_id)
    assert check_run.success is True
    assert (check_run.evaluated, check_run.passed) == (RAW_RULES + MART_RULES, RAW_RULES + MART_RULES)
    assert sorted(check_run.datasets) == sorted([RAW, MART])
    assert check_run.data_docs_uri == run.data_docs_uri

    index = _lake_file(weather_tables, "quality/docs/index.html")
    assert run.data_docs_uri == index.resolve().as_uri()
    assert "weather__observations" in index.read_text(encoding="utf-8")
    assert raw.docs_uri is not None and raw.docs_uri.startswith(f"{index.parent.resolve().as_uri()}/validations/")
    assert Path(raw.docs_uri.removeprefix("file://")).is_file()
    assert dataset_status(weather_tables) == {RAW: "ok", MART: "ok"}


def test_blocking_failure_is_recorded_and_history_kept(weather_tables: Settings, sql) -> None:
    settings = weather_tables
    first = run_checks(settings, [RAW])
    assert first.success

    insert(
        settings,
        RAW,
        [
            observation("54471", 5, "batch-3", precip_1h_mm=-5.0),
            observation("A3817", -2, "batch-3"),  # two hours ahead of now
            # Flagged wrong by the bureau itself (qc 2): kept in raw, not held against it.
            observation("A3818", 5, "batch-3", precip_1h_mm=-7.0, qc=2),
        ],
    )
    bad = run_checks(settings, [RAW])

    assert not bad.success
    raw = bad.datasets[RAW]
    assert (raw.evaluated, raw.passed, raw.failed_blocking, raw.failed_warning) == (RAW_RULES, RAW_RULES - 2, 2, 0)
    assert dataset_status(settings)[RAW] == "blocked"
    assert any("precip_1h_mm_in_range" in line for line in bad.summary_lines())

    failed = {
        r.expectation_id: r
        for r in sql(
            "select * from audit.expectation_results where run_id = :r and not success order by id", r=bad.run_id
        )
    }
    assert set(failed) == {"precip_1h_mm_in_range", "obs_time_not_future"}
    precip = failed["precip_1h_mm_in_range"]
    assert (precip.severity, precip.dimension, precip.column_name) == ("blocking", "accuracy", "precip_1h_mm")
    assert precip.unexpected_count == 1
    assert precip.unexpected_sample == [-5.0]
    future = failed["obs_time_not_future"]
    assert future.unexpected_count == 1
    assert future.observed_value == 1
    (sample,) = future.unexpected_sample
    assert (sample["station_id"], sample["_batch_id"]) == ("A3817", "batch-3")

    sql("delete from raw.weather__observations where _batch_id = 'batch-3'")
    fixed = run_checks(settings, [RAW])

    assert fixed.success
    assert dataset_status(settings)[RAW] == "ok"
    # History: every run keeps all its rows, the failed ones included.
    counts = dict(sql("select run_id, count(*) from audit.expectation_results group by run_id"))
    assert counts == {first.run_id: RAW_RULES, bad.run_id: RAW_RULES, fixed.run_id: RAW_RULES}
    still = sql("select count(*) from audit.expectation_results where run_id = :r and not success", r=bad.run_id)
    assert still[0][0] == 2
    assert [r.success for r in sql("select success from audit.check_runs order by started_at")] == [True, False, True]


def test_warning_is_recorded_but_does_not_block(weather_tables: Settings, sql) -> None:
    insert(weather_tables, MART, [extreme("210381003000", "响堂街道", 1, station_count=3, obs_count=1)])

    run = run_checks(weather_tables, [MART])

    mart = run.datasets[MART]
    assert (mart.evaluated, mart.passed, mart.failed_blocking, mart.failed_warning) == (MART_RULES, MART_RULES - 1, 0, 1)
    assert run.success
    assert dataset_status(weather_tables)[MART] == "ok"
    (row,) = sql("select * from audit.expectation_results where run_id = :r and not success", r=run.run_id)
    assert (row.expectation_id, row.severity, row.dimension) == ("obs_count_covers_stations", "warning", "consistency")
    assert row.unexpected_count == 1


def test_mart_rules_catch_bad_codes_and_future_hours(weather_tables: Settings, sql) -> None:
    insert(
        weather_tables,
        MART,
        [
            extreme("210382001000", "鞍山某街道", 1),  # another county's code
            extreme("210381004000", "八里镇", -3),  # three hours ahead
        ],
    )

    run = run_checks(weather_tables, [MART])

    assert not run.success
    failed = dict(
        sql(
            "select expectation_id, unexpected_sample from audit.expectation_results where run_id = :r and not success",
            r=run.run_id,
        )
    )
    assert set(failed) == {"division_code_format", "obs_hour_not_future"}
    assert failed["division_code_format"] == ["210382001000"]
    assert [r["division_code"] for r in failed["obs_hour_not_future"]] == ["210381004000"]


def test_unreadable_table_blocks_its_dataset_only(weather_tables: Settings, sql) -> None:
    sql("drop table marts.fct_weather_hourly_extremes")

    run = run_checks(weather_tables)

    assert not run.success
    mart = run.datasets[MART]
    assert (mart.evaluated, mart.failed_blocking) == (1, 1)
    assert run.datasets[RAW].passed == RAW_RULES
    (row,) = sql("select * from audit.expectation_results where run_id = :r and dataset = :d", r=run.run_id, d=MART)
    assert (row.expectation_type, row.dimension, row.severity) == (UNREADABLE, "accessibility", "blocking")
    assert "fct_weather_hourly_extremes" in row.exception
    assert dataset_status(weather_tables) == {RAW: "ok", MART: "blocked"}


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
    run_checks(weather_tables)
    first = list(copied)
    copied.clear()
    run_checks(weather_tables)

    assert any(k.startswith("quality/docs/static/") for k in first)
    assert not any(k.startswith("quality/docs/static/") for k in copied)
    assert copied[-1] == "quality/docs/index.html"  # the index goes last
    assert sum(k.startswith("quality/docs/validations/") for k in copied) == 2  # this run's two pages
    # Both runs' pages are in the lake (and listed by the index).
    pages = list((weather_tables.home / "lake" / "quality/docs/validations").rglob("*.html"))
    assert len(pages) == 4


def test_never_checked_datasets_are_unchecked(weather_tables: Settings) -> None:
    assert dataset_status(weather_tables) == {RAW: "unchecked", MART: "unchecked"}
