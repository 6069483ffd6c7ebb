"""A history longer than the demo window (``populate(days=N)``, ``serve --days N``): generated in PostgreSQL.

Small sizes only (scale 0.1, six days); a year is for ``benchmarks/standins_year.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from standins.common.timefmt import CST
from standins.water import populate
from standins.water.network import build_network, counts_for_scale

from tests.support.databases import MARIADB_URL, PG_ADMIN_URL, reachable
from tests.support.sl323 import sl323_database

pytestmark = pytest.mark.integration

NOW = datetime(2026, 7, 29, 10, 30)  # naive local time, as the bureau's database keeps it
SEED, SCALE = 5, 0.1
SEAM = NOW - timedelta(days=3) + timedelta(minutes=5)  # the demo window's first 5-minute period
SEAM_HOUR = NOW.replace(minute=0) - timedelta(days=3) + timedelta(hours=1)  # and its first hour


@pytest.fixture(scope="module")
def databases():
    """The same network populated with the demo's 3 days and with 6 days (module-scoped: populated once)."""
    if not reachable(PG_ADMIN_URL):
        pytest.skip(f"postgresql server {PG_ADMIN_URL} is not reachable")
    with sl323_database("sl323_days3") as short, sl323_database("sl323_days6") as long:
        infos = (
            populate(short, seed=SEED, scale=SCALE, now=NOW),
            populate(long, seed=SEED, scale=SCALE, now=NOW, days=6, progress=messages.append),
        )
        yield short, long, infos


messages: list[str] = []


def _rows(url: str, sql: str, **params) -> list[tuple]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def test_six_days_hold_twice_the_rows_at_the_same_cadence_and_stations(databases) -> None:
    _, long, (short_info, long_info) = databases
    gauges = len(build_network(SEED, counts_for_scale(SCALE)).active_gauges)
    offline_slots = 6 * 12  # one gauge has been silent for the last 6 hours
    assert short_info["rows"]["rainfall"] == gauges * 288 * 3 - offline_slots
    assert long_info["rows"]["rainfall"] == gauges * 288 * 6 - offline_slots
    for table in ("river", "reservoir"):
        assert long_info["rows"][table] == 2 * short_info["rows"][table]
    assert long_info["days"] == 6 and long_info["first_tm"] == (NOW - timedelta(days=6, minutes=-5)).isoformat()
    [(stations, first, last, steps, intervals)] = _rows(
        long,
        'select count(distinct "STCD"), min("TM"), max("TM"), '
        'array_agg(distinct step) filter (where step is not null), array_agg(distinct "INTV") '
        'from (select "STCD", "TM", "INTV", "TM" - lag("TM") over (partition by "STCD" order by "TM") as step '
        'from "ST_PPTN_R") as x',
    )
    assert stations == gauges
    assert (first, last) == (NOW - timedelta(days=6, minutes=-5), NOW)
    assert steps == [timedelta(minutes=5)] and [float(v) for v in intervals] == [0.05]
    hourly = _rows(
        long,
        'select count(distinct step) from (select "TM" - lag("TM") over (partition by "STCD" order by "TM") as step '
        'from "ST_RIVER_R" union all select "TM" - lag("TM") over (partition by "STCD" order by "TM") '
        "from \"ST_RSVR_R\") as x where step is not null and step <> interval '1 hour'",
    )
    assert hourly == [(0,)]
    assert any(m.startswith("water: rainfall up to") for m in messages)


def test_the_demo_window_is_unchanged_by_a_longer_history(databases) -> None:
    short, long, _ = databases
    # DYP is left out: the first day's 08:00 rows sum the stored rows before them, history included.
    for table, columns, seam in (
        ("ST_PPTN_R", '"STCD", "TM", "DRP", "INTV", "PDR", "WTH"', SEAM),
        ("ST_RIVER_R", "*", SEAM_HOUR),
        ("ST_RSVR_R", "*", SEAM_HOUR),
    ):
        sql = f'select {columns} from "{table}" where "TM" >= :seam order by "STCD", "TM"'
        demo = _rows(short, sql, seam=seam)
        assert demo and _rows(long, sql, seam=seam) == demo


def test_daily_rain_and_levels_stay_consistent_across_the_history(databases) -> None:
    _, long, _ = databases
    # Every 08:00 row with a full day before it carries the rain of that day, history and seam included.
    wrong = _rows(
        long,
        'select p."STCD", p."TM" from "ST_PPTN_R" as p where extract(hour from p."TM") = 8 '
        'and extract(minute from p."TM") = 0 and p."TM" >= :full '
        'and p."DYP" is distinct from (select sum(q."DRP") from "ST_PPTN_R" as q '
        'where q."STCD" = p."STCD" and q."TM" > p."TM" - interval \'24 hours\' and q."TM" <= p."TM")',
        full=NOW - timedelta(days=5),
    )
    assert wrong == []
    # Only the demo's storm lifts a river above its warning stage or a reservoir above its flood limit.
    above_warning = _rows(
        long,
        'select min(r."TM") from "ST_RIVER_R" as r join "ST_RVFCCH_B" as t on t."STCD" = r."STCD" '
        'where r."Z" > t."WRZ"',
    )
    assert above_warning[0][0] is None or above_warning[0][0] >= SEAM
    above_limit = _rows(
        long,
        'select min(r."TM") from "ST_RSVR_R" as r join "ST_RSVRFSR_B" as b on b."STCD" = r."STCD" '
        'and to_char(r."TM", \'MMDD\') between b."BGMD" and b."EDMD" where r."RZ" > b."FSLTDZ"',
    )
    assert above_limit[0][0] is None or above_limit[0][0] >= SEAM


def test_the_history_is_deterministic(databases) -> None:
    _, long, _ = databases
    sql = 'select md5(string_agg("STCD" || "TM" || "DRP" || coalesce("DYP", -1), \',\' order by "STCD", "TM")) '
    sql += 'from "ST_PPTN_R"'
    before = _rows(long, sql)
    populate(long, seed=SEED, scale=SCALE, now=NOW, days=6)
    assert _rows(long, sql) == before


def test_a_history_needs_postgresql() -> None:
    if not reachable(MARIADB_URL):
        pytest.skip(f"mariadb server {MARIADB_URL} is not reachable")
    with sl323_database("sl323_days", server_url=MARIADB_URL) as url:
        with pytest.raises(ValueError, match="needs PostgreSQL"):
            populate(url, seed=SEED, scale=SCALE, now=NOW, days=4)


def test_the_connector_reads_the_longer_history_in_bounded_pages(databases) -> None:
    from connectors.water.source import WaterSource

    _, long, (_, long_info) = databases
    src = WaterSource(sa.make_url(long), page_size=2000, initial_days=7)
    try:
        sizes = [len(p.records) for p in src.read("rainfall", None, NOW.replace(tzinfo=CST))]
    finally:
        src.close()
    assert max(sizes) == 2000 and sum(sizes) == long_info["rows"]["rainfall"]
    assert len(sizes) == long_info["rows"]["rainfall"] // 2000 + 1
