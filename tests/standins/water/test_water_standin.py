"""The SL 323 stand-in: a Haicheng-looking network, deterministic series, the events the marts look for."""

from __future__ import annotations

import csv
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from standins.water import populate
from standins.water.network import (
    RIVERS,
    build_network,
    counts_for_scale,
    flood_limit,
    flood_limit_rows,
    threshold_rows,
)
from standins.water.series import (
    SLOT,
    heavy_gauge,
    hour_slots,
    hour_total,
    make_storm,
    rainfall_rows,
    reservoir_rows,
    river_rows,
)
from standins.water.tables import ALL_TABLES

DIVISIONS = Path("/work/shared/reference/haicheng_divisions_2022.csv")
NOW = datetime(2026, 7, 29, 10, 30)  # naive local time, as the bureau's database keeps it


@pytest.fixture(scope="module")
def net():
    return build_network(42, counts_for_scale(1.0))


def test_network_at_scale_1_looks_like_haicheng(net) -> None:
    stations = net.all
    assert len(stations) == 120
    assert Counter(s.sttp for s in stations) == {"PP": 80, "ZZ": 18, "ZQ": 4, "RR": 10, "DD": 4, "MM": 2, "ZG": 2}
    codes = [s.stcd for s in stations]
    assert len(set(codes)) == len(codes) and all(len(c) in (6, 8) for c in codes)
    assert any(len(c) == 6 for c in codes)  # legacy codes, padded by CHAR(8)
    assert {s.rvnm for s in net.rivers} == set(RIVERS) == {"海城河", "五道河", "杨柳河", "八里河"}
    with DIVISIONS.open(encoding="utf-8") as fh:
        towns = {r["code12"] for r in csv.DictReader(fh) if r["level"] == "town"}
    assert {s.town.code12 for s in stations} <= towns
    rows = [s.row() for s in stations]
    assert all(r["ADDVCD"] == "210381" and 122.2 < r["LGTD"] < 123.3 and 40.4 < r["LTTD"] < 41.2 for r in rows)
    assert len(net.active_gauges) == 79  # one retired gauge stays in the register


def test_network_is_deterministic_and_grows_without_reshuffling(net) -> None:
    again = build_network(42, counts_for_scale(1.0))
    assert [s.row() for s in again.all] == [s.row() for s in net.all]
    small = build_network(42, counts_for_scale(0.25))
    assert [s.row() for s in small.gauges] == [s.row() for s in net.gauges[: len(small.gauges)]]
    other = build_network(43, counts_for_scale(1.0))
    assert [s.row() for s in other.gauges] != [s.row() for s in net.gauges]


def test_storm_is_a_summer_rainstorm_by_the_standards(net) -> None:
    # NOW is a July morning: the storm of the day before is a flood-season storm.
    storm = make_storm(net, NOW)
    wettest = heavy_gauge(net)
    hourly = [sum(hour_slots(42, wettest, storm.start + timedelta(hours=k), storm)) for k in range(12)]
    peak = sum(hour_slots(42, wettest, storm.peak, storm))
    assert 20 <= peak < 50  # 短时强降水, not the old 50 mm hour
    assert max(sum(hourly[k : k + 3]) for k in range(10)) >= 50  # the orange signal's 3 h criterion
    assert 70 <= sum(hourly) < 140  # 12 h 大暴雨 (GB/T 28592-2012), not 特大暴雨
    # 0.1 mm tips: the 5-minute periods add up to the hour exactly.
    for g in net.active_gauges[:10]:
        assert round(sum(hour_slots(42, g, storm.peak, storm)), 1) == round(hour_total(42, g, storm.peak, storm), 1)


def test_daily_rain_is_on_the_0800_row(net) -> None:
    storm = make_storm(net, NOW)
    g = heavy_gauge(net)
    rows = rainfall_rows(42, g, NOW - timedelta(days=2), NOW, storm)
    assert all(r["INTV"] == Decimal("0.05") and r["TM"].minute % 5 == 0 for r in rows)
    eight = next(
        r for r in rows if r["TM"].hour == 8 and r["TM"].minute == 0 and r["TM"] - timedelta(days=1) >= rows[0]["TM"]
    )
    day = [r["DRP"] for r in rows if eight["TM"] - timedelta(hours=24) < r["TM"] <= eight["TM"]]
    assert len(day) == 288 and eight["DYP"] == sum(day)
    assert all(r["DYP"] is None for r in rows if (r["TM"].hour, r["TM"].minute) != (8, 0))


def test_river_flagship_passes_warning_stage_and_no_other_does(net) -> None:
    storm = make_storm(net, NOW)
    wrz = {r["STCD"]: float(r["WRZ"]) for r in threshold_rows(net)}
    for i, s in enumerate(net.rivers):
        rows = river_rows(42, s, NOW - timedelta(days=3), NOW, storm, flagship=i == 0)
        peak = max(float(r["Z"]) for r in rows)
        assert (peak > wrz[s.stcd]) == (i == 0), s.stnm
        assert {r["WPTN"] for r in rows} <= {"4", "5", "6"}
        assert all(r["Q"] is None for r in rows) if s.sttp == "ZZ" else all(r["Q"] > 0 for r in rows)


def test_reservoir_flagship_is_above_its_flood_limit_in_the_flood_season(net) -> None:
    storm = make_storm(net, NOW)
    for i, s in enumerate(net.reservoirs):
        limit, fstp = flood_limit(s, "0729")
        assert fstp == "1"
        rows = reservoir_rows(42, s, NOW - timedelta(days=3), NOW, storm, flagship=i == 0)
        assert (float(rows[-1]["RZ"]) > limit) == (i == 0), s.stnm
        assert all(r["W"] > 0 for r in rows)


def test_flood_seasons_cover_every_day_once(net) -> None:
    rows = [r for r in flood_limit_rows(net) if r["STCD"] == net.reservoirs[0].stcd]
    assert ("0601", "0915", "1") in {(r["BGMD"], r["EDMD"], r["FSTP"]) for r in rows}
    day = date(2024, 1, 1)
    while day.year == 2024:
        mmdd = day.strftime("%m%d")
        assert sum(r["BGMD"] <= mmdd <= r["EDMD"] for r in rows) == 1, mmdd
        day += timedelta(days=1)


def test_tables_follow_sl_323() -> None:
    names = {t.name for t in ALL_TABLES}
    assert names == {"ST_STBPRP_B", "ST_PPTN_R", "ST_RIVER_R", "ST_RSVR_R", "ST_RVFCCH_B", "ST_RSVRFSR_B"}
    pptn = next(t for t in ALL_TABLES if t.name == "ST_PPTN_R")
    assert [c.name for c in pptn.primary_key] == ["STCD", "TM"]
    assert isinstance(pptn.c.STCD.type, sa.CHAR) and pptn.c.STCD.type.length == 8
    assert pptn.c.TM.type.timezone is False


@pytest.mark.integration
def test_populate_is_deterministic_in_the_database(sl323) -> None:
    def dump() -> dict[str, list[tuple]]:
        eng = sa.create_engine(sl323, poolclass=sa.NullPool)
        try:
            with eng.connect() as c:
                return {t.name: sorted(tuple(r) for r in c.execute(sa.select(t))) for t in ALL_TABLES}
        finally:
            eng.dispose()

    info = populate(sl323, seed=5, scale=0.1, now=NOW)
    first = dump()
    assert {k: len(v) for k, v in first.items()}["ST_PPTN_R"] == info["rows"]["rainfall"]
    assert info["rows"]["stations"] == len(first["ST_STBPRP_B"]) >= 10
    populate(sl323, seed=5, scale=0.1, now=NOW)  # re-populating replaces, never adds
    assert dump() == first
    newest = max(r[1] for r in first["ST_PPTN_R"])
    assert newest == NOW and min(r[1] for r in first["ST_PPTN_R"]) == NOW - timedelta(days=3) + SLOT
    assert max(r[1] for r in first["ST_RIVER_R"]) == NOW.replace(minute=0)


@pytest.mark.integration
def test_provision_creates_a_filled_database_and_a_read_only_account(server_url) -> None:
    from standins.water import drop_database, drop_reader, provision

    from connectors.water.source import WaterSource, database_url

    database, user, password = f"sl323_test_{uuid.uuid4().hex[:12]}", f"edp_reader_{uuid.uuid4().hex[:8]}", "pw-x'y\\z"
    try:
        info = provision(server_url, database=database, seed=3, scale=0.05, reader=(user, password), now=NOW)
        assert sa.make_url(info["url"]).username == user and sa.make_url(info["url"]).password is None
        src = WaterSource(database_url(info["url"], password))
        try:
            checked = src.check()
        finally:
            src.close()
        assert checked.ok and checked.details["stations"] == info["rows"]["stations"]
        reader = sa.create_engine(database_url(info["url"], password), poolclass=sa.NullPool)
        try:
            with pytest.raises(sa.exc.DBAPIError), reader.begin() as c:  # read-only: no writes
                c.execute(sa.text("DELETE FROM " + reader.dialect.identifier_preparer.quote("ST_PPTN_R")))
        finally:
            reader.dispose()
    finally:
        drop_database(server_url, database)
        drop_reader(server_url, user, (database,))


@pytest.mark.integration
def test_a_december_database_snows_a_little_and_nothing_rises(sl323) -> None:
    """storm="season" in December: the shared episode is light snow (WTH 5), no 暴雨 and no flood at any station."""
    december = datetime(2026, 12, 6, 21, 30)
    info = populate(sl323, seed=5, scale=0.1, now=december)
    assert info["storm_kind"] == "snow"
    start = datetime.fromisoformat(info["storm_start"])
    eng = sa.create_engine(sl323, poolclass=sa.NullPool)
    try:
        with eng.connect() as c:
            t = {table.name: table for table in ALL_TABLES}
            pptn, rvr, rvfcch = t["ST_PPTN_R"], t["ST_RIVER_R"], t["ST_RVFCCH_B"]
            rain = [
                (s.strip(), tm, d, w)
                for s, tm, d, w in c.execute(sa.select(pptn.c.STCD, pptn.c.TM, pptn.c.DRP, pptn.c.WTH))
            ]
            river = [(s.strip(), tm, z) for s, tm, z in c.execute(sa.select(rvr.c.STCD, rvr.c.TM, rvr.c.Z))]
            warning = {s.strip(): wrz for s, wrz in c.execute(sa.select(rvfcch.c.STCD, rvfcch.c.WRZ))}
    finally:
        eng.dispose()
    hourly: dict[str, Counter[datetime]] = {}
    for stcd, tm, drp, _ in rain:
        if drp is not None and drp > 0:
            hourly.setdefault(stcd, Counter())[(tm - SLOT).replace(minute=0)] += float(drp)
    assert hourly, "some snow falls"
    for hours in hourly.values():
        assert max(hours.values()) < 20
        assert max(sum(hours[h + timedelta(hours=k)] for k in range(12)) for h in list(hours)) < 30
    in_storm = [r for r in rain if r[2] and r[2] > 0 and start < r[1] <= start + timedelta(hours=12)]
    assert in_storm and {r[3] for r in in_storm} == {"5"}
    # The storm hours carry the episode: the county's wettest 12 hours are the storm's.
    county = Counter()
    for hours in hourly.values():
        county.update(hours)
    storm_total = sum(county[start + timedelta(hours=k)] for k in range(12))
    assert storm_total > max(sum(county[h + timedelta(hours=k)] for k in range(12)) for h in county if h != start)
    assert not [r for r in river if r[0] in warning and warning[r[0]] is not None and r[2] > warning[r[0]]]
