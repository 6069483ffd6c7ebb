"""The gate through the stand-ins: a bad batch blocks, the sync refuses, a correcting batch recovers.

The water bureau's stand-in (a real SL 323 database of this test's own) holds
a plausible-looking but impossible river stage after a data-entry error: the
connector types it fine (it is a number), the loader lands it, and only the
quality layer can tell it lies 30 m above the station's bank crests. The
Anshan exchange stand-in receives (or not) what the sync publishes.

``hazard_events`` is gated by ``raw.water__river`` in ``edp.exchange.sync.EXCHANGED``
(hazard events include river threshold breaches).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from standins.server import RunningServer
from standins.water import populate
from standins.water.tables import RIVER, RVFCCH

from edp.exchange.sync import EXCHANGED, sync
from edp.orchestration.pipeline import ingest
from edp.quality.runner import dataset_status, run_checks
from edp.settings import Settings
from edp.storage.warehouse import engine
from tests.support.sl323 import sl323_database
from tests.support.sources import point_at
from tests.support.standin_servers import city_records

pytestmark = pytest.mark.integration

CST = timezone(timedelta(hours=8))
RIVER_DATASET = "raw.water__river"
CHECKED = [RIVER_DATASET, "raw.water__river_thresholds"]
ERROR_M = Decimal("30.000")  # the data-entry error: 30 m too high


@pytest.fixture
def stand_ins(
    settings: Settings, anshan_city: Callable[..., RunningServer], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, str, str]]:
    """The water stand-in filled up to now, the Anshan stand-in, and the platform pointed at both."""
    with sl323_database("sl323_quality") as water_url:
        populate(water_url, seed=7, scale=0.15, now=datetime.now(CST))
        city = anshan_city(timeout_seconds=2)
        yield point_at(monkeypatch, "water", water_url), water_url, city.url


def _mart(s: Settings, events: int) -> None:
    """A minimal hazard-event mart (the transform is not under test here)."""
    with engine(s).begin() as c:
        c.execute(sa.text("drop table if exists marts.fct_hazard_event"))
        c.execute(sa.text("create table marts.fct_hazard_event (event_id text primary key, source text, "
                          "occurred_at timestamptz, division_code text, description text)"))  # fmt: skip
        c.execute(
            sa.text(
                "insert into marts.fct_hazard_event select 'water-river-' || g, 'water', now() - g * interval "
                "'1 hour', '210381001000', '海城河 水位超警 ' || g from generate_series(1, :n) g"
            ),
            {"n": events},
        )


def _stage(water_url: str, delta: Decimal) -> tuple[str, datetime]:
    """The bureau changes the newest stage of a station that has thresholds (an UPDATE, as it does)."""
    eng = sa.create_engine(water_url, poolclass=sa.NullPool)
    try:
        with eng.begin() as c:
            stcd = c.execute(sa.select(sa.func.min(RVFCCH.c.STCD))).scalar_one()
            tm = c.execute(sa.select(sa.func.max(RIVER.c.TM)).where(RIVER.c.STCD == stcd)).scalar_one()
            c.execute(RIVER.update().where(RIVER.c.STCD == stcd, RIVER.c.TM == tm).values(Z=RIVER.c.Z + delta))
        return stcd.strip(), tm
    finally:
        eng.dispose()


def _latest_batch(s: Settings) -> str:
    with engine(s).connect() as c:
        return c.execute(
            sa.text(
                "select batch_id from ops.batches where source = 'water' and dataset = 'river' "
                "order by extracted_at desc limit 1"
            )
        ).scalar_one()


def test_bad_batch_blocks_the_sync_until_a_good_batch(stand_ins) -> None:
    s, water_url, city_url = stand_ins
    assert RIVER_DATASET in EXCHANGED["hazard_events"].gated_by
    _mart(s, 3)

    # 1. A clean load passes and is published.
    ingest("water", s)
    clean = run_checks(s, CHECKED)
    assert clean.success, clean.summary_lines()
    (published,) = sync(s, ["hazard_events"])
    assert published.blocked is None
    assert len(city_records(city_url)) == 3

    # 2. The bureau mistypes a stage; the next pull re-reads it (lookback) and lands it as a new version.
    stcd, _ = _stage(water_url, ERROR_M)
    ingest("water", s)
    bad_batch = _latest_batch(s)
    bad = run_checks(s, CHECKED)

    assert not bad.success
    # z_plausible_for_station is row-level: the stage is held, and hazard_events cannot map a raw stage
    # to its events (no held_maps entry), so the sync still refuses the whole dataset.
    assert dataset_status(s, [RIVER_DATASET]) == {RIVER_DATASET: "held"}
    with engine(s).connect() as c:
        failure = c.execute(
            sa.text("select * from audit.expectation_results where run_id = :r and not success"), {"r": bad.run_id}
        ).one()
    assert (failure.dataset, failure.expectation_id, failure.severity) == (
        RIVER_DATASET, "z_plausible_for_station", "blocking",
    )  # fmt: skip
    assert failure.failed_batches == [bad_batch]
    (sample,) = failure.unexpected_sample
    assert (sample["stcd"], sample["_batch_id"]) == (stcd, bad_batch)
    assert sample["z"] > sample["upper_crest"]

    # 3. The sync refuses to publish, says why, and nothing new reaches the city.
    _mart(s, 5)
    (refused,) = sync(s, ["hazard_events"])
    assert refused.blocked is not None and RIVER_DATASET in refused.blocked and "do not map" in refused.blocked
    assert refused.diff == {} and refused.batches_packed == 0
    assert len(city_records(city_url)) == 3

    # 4. The bureau corrects the stage; the next pull brings the right value and the block lifts.
    _stage(water_url, -ERROR_M + Decimal("0.010"))
    ingest("water", s)
    good = run_checks(s, CHECKED)
    assert good.success, good.summary_lines()
    assert dataset_status(s, [RIVER_DATASET]) == {RIVER_DATASET: "ok"}
    (recovered,) = sync(s, ["hazard_events"])
    assert recovered.blocked is None
    assert len(city_records(city_url)) == 5

    # 5. History: every run kept whole, the failure still on record, raw still holding the bad version.
    with engine(s).connect() as c:
        runs = c.execute(sa.text("select run_id, success from audit.check_runs order by started_at")).all()
        per_run = dict(c.execute(sa.text("select run_id, count(*) from audit.expectation_results group by 1")).all())
        bad_rows = c.execute(
            sa.text("select count(*) from raw.water__river where _batch_id = :b and stcd = :s"),
            {"b": bad_batch, "s": stcd},
        ).scalar_one()
    assert [r.success for r in runs] == [True, False, True]
    assert per_run[clean.run_id] == per_run[bad.run_id] == per_run[good.run_id]
    assert bad_rows == 1
