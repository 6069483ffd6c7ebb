"""Two `edp ingest` of one source at once: both finish without error, raw holds every version once.

Both runs extract the same window; each loads every pending batch, its own and the other's. Loads of
one table queue on its advisory lock, a batch already loaded by the other run is left as it is, and
a batch with nothing new adds nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standins.weather.app import create_app

from edp.secrets import source_credential
from edp.settings import Settings
from tests.support.standin_servers import StandinServers
from tests.support.warehouse import count, identical_versions, repeated_keys

pytestmark = pytest.mark.integration


def test_two_ingests_at_once_finish_without_duplicates(settings: Settings, standin_servers: StandinServers) -> None:
    app = create_app(api_key=source_credential(settings, "weather", "api_key"), seed=7, scale=0.25)
    app.state.clock.freeze(datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    standin_servers.start(app, source="weather")
    env = {**os.environ, "EDP_HOME": str(settings.home), "EDP_WEATHER_INITIAL_DAYS": "1"}
    edp = str(Path(sys.executable).with_name("edp"))
    runs = [
        subprocess.Popen([edp, "ingest", "weather"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=600), *p.communicate()) for p in runs]
    for code, _out, err in outcomes:
        assert code == 0, err[-3000:]
        assert "Deadlock" not in err
    observations = count(settings, "select count(*) from raw.weather__observations")
    assert observations > 100
    assert repeated_keys(settings, "raw.weather__observations", "station_id", "obs_time", "updated_at") == 0
    assert identical_versions(settings, "raw.weather__stations", ("station_id", "name", "lat", "lon")) == 0
    # Each run made its own batches; every one of them is loaded, none is left pending.
    assert count(settings, "select count(*) from ops.batches where status <> 'loaded'") == 0
    assert count(settings, "select count(distinct batch_id) from ops.batches where dataset = 'observations'") == 2
