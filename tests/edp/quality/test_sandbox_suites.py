"""Every raw suite against what the six stand-ins deliver: every rule evaluates, none blocks clean data.

The water stand-in gets a database of this test's own (the sandbox's shared
one is left to the sandbox); the other five run as ``edp sandbox up`` starts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from standins.water import populate

from connectors.registry import SOURCES
from edp.orchestration.pipeline import ingest
from edp.quality.runner import run_checks
from edp.sandbox.control import sandbox_down, sandbox_up
from edp.settings import Settings
from expectations import SUITES
from tests.support.sl323 import sl323_database
from tests.support.sources import point_at

pytestmark = pytest.mark.integration

RAW = [name for name, suite in SUITES.items() if suite.layer == "raw"]


@pytest.fixture
def delivered(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    with sl323_database("sl323_quality") as water_url:
        populate(water_url, seed=42, scale=0.25, now=datetime.now(timezone(timedelta(hours=8))))
        s = point_at(monkeypatch, "water", water_url)
        sandbox_up(s, seed=42, scale=0.25)
        try:
            for source in SOURCES:
                ingest(source, s)
            yield s
        finally:
            sandbox_down(s)


def test_every_raw_suite_runs_cleanly_on_stand_in_data(delivered: Settings) -> None:
    run = run_checks(delivered, RAW)

    raised = [(o.dataset, o.rule_id, o.exception) for o in run.outcomes if o.exception]
    assert raised == []
    assert all(run.datasets[name].evaluated > 1 for name in RAW)  # every table was readable
    blocking = [(o.dataset, o.rule_id) for o in run.outcomes if not o.success and o.blocking]
    assert blocking == [], run.summary_lines()
    # What the stand-ins deliberately get wrong is reported, not blocked.
    warnings = {(o.dataset, o.rule_id) for o in run.outcomes if not o.success}
    assert ("raw.bureau__safety_hazards", "credit_code_valid") in warnings
