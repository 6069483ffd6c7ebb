"""The dbt project on what the real pipeline loads: weather stand-in → lake → raw → marts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from standins.server import run_in_thread
from standins.weather.app import create_app

from edp.ingest.extract import extract
from edp.ingest.loader import ensure_declared_raw_tables, load_pending
from edp.secrets import source_credential
from edp.settings import Settings
from edp.storage.warehouse import engine
from edp.transform.dbt_runner import build

NOW = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)


@pytest.fixture
def loaded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """One day of the weather stand-in (clock frozen at NOW) ingested into raw."""
    app = create_app(api_key=source_credential(settings, "weather", "api_key"), seed=7, scale=0.25)
    app.state.clock.freeze(NOW)
    with run_in_thread(app) as server:
        monkeypatch.setenv("EDP_SOURCE_WEATHER_URL", server.url)
        s = Settings(weather_initial_days=1)
        extract(s, "weather", ["stations", "observations"], until=NOW)
        load_pending(s, "weather")
        yield s


@pytest.mark.integration
def test_build_on_the_weather_stand_in(loaded: Settings) -> None:
    ensure_declared_raw_tables(loaded)  # the other sources have not delivered here
    result = build(loaded)
    assert result.success, result.summary()
    assert not [n.unique_id for n in result.nodes if n.status == "warn"]
    with engine(loaded).connect() as c:
        hours = c.execute(
            sa.text("select count(*), count(distinct division_code) from marts.fct_weather_hourly_extremes")
        )
        rows, divisions = hours.one()
        unnamed = c.execute(
            sa.text("select count(*) from marts.fct_weather_hourly_extremes where division_name is null")
        ).scalar_one()
        raw_hours = c.execute(
            sa.text(
                "select count(distinct (s.division_code, date_trunc('hour', o.obs_time)))"
                " from raw.weather__observations o join raw.weather__stations s using (station_id)"
            )
        ).scalar_one()
    assert rows > 0 and divisions > 1
    assert unnamed == 0
    assert rows == raw_hours
