"""Weather bureau stand-in → lake → raw, against a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from standins.weather.app import create_app

from edp.ingest.extract import Manifest, extract
from edp.ingest.loader import BatchIntegrityError, load_pending, reload_batch
from edp.ingest.quarantine import replay, summary
from edp.orchestration.pipeline import ingest
from edp.secrets import source_credential
from edp.settings import Settings
from edp.storage import ops
from edp.storage.lake import open_lake
from tests.support.sources import write_sources_file
from tests.support.standin_servers import StandinServers
from tests.support.warehouse import column, count, repeated_keys, rows

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)


@pytest.fixture
def weather(settings: Settings, standin_servers: StandinServers) -> tuple[Settings, object]:
    """The weather stand-in on a free port, its clock frozen at NOW."""
    app = create_app(api_key=source_credential(settings, "weather", "api_key"), seed=7, scale=0.25)
    app.state.clock.freeze(NOW)
    standin_servers.start(app, source="weather")
    return Settings(weather_initial_days=1), app


def sources_file(tmp_path: Path, **options: object) -> Path:
    return write_sources_file(tmp_path, "weather", credentials={"api_key": "EDP_WEATHER_API_KEY"}, **options)


def _dupes(s: Settings) -> int:
    return repeated_keys(s, "raw.weather__observations", "station_id", "obs_time", "updated_at")


def test_ingest_twice_adds_nothing_and_moves_cursor(weather) -> None:
    s, _ = weather
    first = ingest("weather", s, until=NOW)
    rows = count(s, "select count(*) from raw.weather__observations")
    assert rows > 100 and first["quarantined"] == 0
    cursor = ops.get_cursor(s, "weather", "observations")
    assert cursor == "2026-11-28T18:00:00+08:00"
    second = ingest("weather", s, until=NOW)
    assert second["rows"] > 0  # the lookback window was read again...
    assert count(s, "select count(*) from raw.weather__observations") == rows  # ...and added nothing
    assert _dupes(s) == 0
    lineage = count(s, "select count(*) from raw.weather__observations where _batch_id is null or _source <> 'weather'")
    assert lineage == 0


def test_late_correction_is_kept_as_a_new_version(weather) -> None:
    s, app = weather
    ingest("weather", s, until=NOW)
    before = count(s, "select count(*) from raw.weather__observations")
    app.state.clock.freeze(NOW + timedelta(hours=5))
    ingest("weather", s, until=NOW + timedelta(hours=5))
    versions = count(
        s,
        "select count(*) from (select station_id, obs_time from raw.weather__observations "
        "where obs_time <= :t group by 1, 2 having count(*) > 1) v".replace(":t", f"'{NOW.isoformat()}'"),
    )
    assert versions > 0, "corrections re-issued by the bureau must arrive as newer versions"
    assert count(s, "select count(*) from raw.weather__observations") > before
    assert _dupes(s) == 0


def test_bad_records_are_quarantined_with_reason_and_nothing_is_lost(weather) -> None:
    s, app = weather
    app.state.service.faults.malformed_rate = 0.05
    result = ingest("weather", s, until=NOW)
    assert result["quarantined"] > 0
    (b,) = rows(s, "select * from ops.batches where dataset='observations' and origin='extract'")
    q = rows(s, "select locator, field, reason, record from ops.quarantine")
    assert b["source_rows"] == b["row_count"] + b["quarantined_count"] + b["duplicate_count"]
    assert len(q) == b["quarantined_count"]
    assert all(r["reason"] and r["record"] and " record " in r["locator"] for r in q)
    assert all(r["locator"].startswith("landing/weather/observations/") for r in q)
    listed = summary(s, "weather")
    assert sum(r["records"] for r in listed) == len(q)
    # After "the fix" (here: records that still fail stay put), replay keeps every record somewhere.
    out = replay(s, "weather")["datasets"]["observations"]
    assert out["replayed"] + out["still_quarantined"] == len(q)


def test_retries_through_429_and_503(weather, tmp_path) -> None:
    s, app = weather
    # Small pages: many requests, so the injected faults surely hit some of them.
    s = Settings(weather_initial_days=1, sources_file=sources_file(tmp_path, page_size=10))
    app.state.service.faults.fail_503_rate = 0.3
    app.state.service.faults.fail_429_rate = 0.2
    result = ingest("weather", s, until=NOW)
    by_status = httpx.get(f"{s.source('weather').url}/__admin/stats").json()["requests"]["by_status"]
    assert by_status.get("503", 0) > 0 and by_status.get("429", 0) > 0
    assert by_status["200"] >= 10
    assert result["quarantined"] == 0
    assert count(s, "select count(*) from raw.weather__observations") == result["rows"] - 0 - _stations(s)


def _stations(s: Settings) -> int:
    return count(s, "select count(*) from raw.weather__stations")


def test_outage_is_a_clear_error_and_cursor_stays(weather, tmp_path) -> None:
    s, app = weather
    app.state.service.faults.outage = True
    from connectors.http import SourceUnavailable

    s = Settings(weather_initial_days=1, sources_file=sources_file(tmp_path, max_seconds=3))
    with pytest.raises(SourceUnavailable, match="still failing after retries"):
        ingest("weather", s, until=NOW)
    assert ops.get_cursor(s, "weather", "observations") is None


def test_failed_load_keeps_cursor_and_rerun_finishes(weather) -> None:
    s, _ = weather
    manifests = extract(s, "weather", until=NOW)
    obs = next(m for m in manifests if m.dataset == "observations")
    lake = open_lake(s)
    good = lake.get_bytes(obs.parquet_key)
    lake.put_bytes(obs.parquet_key, good[:-10] + b"corrupted!")
    with pytest.raises(BatchIntegrityError, match="sha256"):
        load_pending(s, "weather")
    assert ops.get_cursor(s, "weather", "observations") is None
    # The failed transaction left nothing behind, not even the table it would have created.
    assert count(s, "select count(*) from ops.batches where status='loaded' and dataset='observations'") == 0
    assert count(s, "select (to_regclass('raw.weather__observations') is null)::int") == 1
    lake.put_bytes(obs.parquet_key, good)
    load_pending(s, "weather")
    assert ops.get_cursor(s, "weather", "observations") == obs.cursor_to
    assert count(s, "select count(*) from raw.weather__observations") == obs.row_count


def test_reloading_a_batch_replaces_it(weather) -> None:
    s, _ = weather
    ingest("weather", s, until=NOW)
    m = Manifest.from_json(
        open_lake(s).get_bytes(next(b["manifest_key"] for b in ops.batches(s) if b["dataset"] == "observations"))
    )
    before = count(s, "select count(*) from raw.weather__observations")
    result = reload_batch(s, "weather", "observations", m.batch_id)
    assert result["rows"] == m.row_count
    assert count(s, "select count(*) from raw.weather__observations") == before


def test_a_value_that_returns_is_stored_again(settings: Settings) -> None:
    """A → B → A: the latest version in raw must be A again, not B."""
    from connectors.weather.source import OBSERVATIONS
    from edp.ingest.extract import _Typed, register, write_batch
    from edp.ingest.loader import load_batch

    lake = open_lake(settings)
    base = {
        "station_id": "54471",
        "obs_time": NOW,
        "temp_c": 1.0,
        "precip_1h_mm": 0.0,
        "wind_speed_ms": 1.0,
        "wind_gust_ms": 2.0,
        "wind_dir_deg": 90.0,
        "rh_pct": 50.0,
        "visibility_m": 9000.0,
        "pressure_hpa": 1020.0,
        "qc": 0,
        "updated_at": NOW,
        "_extra": None,
    }
    for n, temp in enumerate((1.0, 2.0, 1.0)):
        typed = _Typed(rows={("54471", NOW): {**base, "temp_c": temp}}, source_rows=1)
        m = write_batch(
            lake,
            OBSERVATIONS,
            f"weather.observations.t{n}",
            NOW + timedelta(minutes=n),
            typed,
            origin="extract",
            cursor_from=None,
            cursor_to=None,
            landing_keys=[],
        )
        register(settings, m)
        load_batch(settings, m, lake)
    temps = column(settings, "select temp_c from raw.weather__observations order by _extracted_at")
    assert temps == [1.0, 2.0, 1.0]
