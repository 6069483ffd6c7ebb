"""The real Airflow runs the weather DAG (`airflow dags test`) against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from edp.orchestration.airflow_run import run_pipeline
from edp.sandbox.control import sandbox_down, sandbox_up
from edp.settings import Settings
from edp.storage.warehouse import engine

pytestmark = [pytest.mark.integration, pytest.mark.airflow]


@pytest.fixture
def sandboxed(settings: Settings) -> Iterator[Settings]:
    sandbox_up(settings, seed=5, scale=0.25)
    try:
        yield settings
    finally:
        sandbox_down(settings)


def test_weather_dag_ingests_through_airflow(sandboxed: Settings) -> None:
    run_pipeline(sandboxed, ("weather",))  # migrates first (warehouse, Airflow's metadata, pools)
    with engine(sandboxed).connect() as c:
        rows = c.execute(sa.text("select count(*) from raw.weather__observations")).scalar_one()
        loaded = {r[0] for r in c.execute(sa.text("select dataset from ops.batches where status='loaded'"))}
        cursor = c.execute(sa.text("select cursor from ops.source_state where dataset='observations'")).scalar()
    assert rows > 100
    assert {"stations", "observations"} <= loaded
    assert cursor is not None
