"""Water stand-in (a real MariaDB / PostgreSQL database) → lake → raw, on both DBMS."""

from __future__ import annotations

import json
import socket
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from standins.water import add_column, append, create_reader, damage, drop_reader

from connectors.http import SourceRejected, SourceUnavailable
from connectors.water import DATASETS
from edp.ingest.sources import build_source
from edp.orchestration.pipeline import ingest
from edp.secrets import source_credential
from edp.settings import Settings
from edp.storage import ops
from tests.support import warehouse
from tests.support.sl323 import NOW
from tests.support.sources import point_at, write_sources_file
from tests.support.warehouse import count, identical_versions, repeated_keys

pytestmark = pytest.mark.integration
OBSERVATIONS = ("rainfall", "river", "reservoir")


def _source_count(url: str, table: str) -> int:
    eng = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with eng.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one())
    finally:
        eng.dispose()


def _versions(s: Settings, table: str) -> int:
    """Keys stored more than once with identical content (must never happen)."""
    return identical_versions(s, f"raw.water__{table}", DATASETS[table].field_names)


def test_ingest_twice_adds_nothing_and_moves_cursor(water) -> None:
    s, info = water.settings, water.info
    first = ingest("water", s, until=NOW)
    assert first["quarantined"] == 0
    counts = {t: count(s, f"select count(*) from raw.water__{t}") for t in OBSERVATIONS}
    # Everything the stand-in wrote lies in the initial 3-day window.
    assert counts == {
        "rainfall": info["rows"]["rainfall"],
        "river": info["rows"]["river"],
        "reservoir": info["rows"]["reservoir"],
    }
    assert ops.get_cursor(s, "water", "rainfall") == "2026-07-29T10:30:00+08:00"
    assert ops.get_cursor(s, "water", "river") == "2026-07-29T10:00:00+08:00"
    second = ingest("water", s, until=NOW)
    assert second["rows"] > 0  # the 24 h lookback was read again ...
    for table, before in counts.items():  # ... and added nothing
        assert count(s, f"select count(*) from raw.water__{table}") == before
        assert _versions(s, table) == 0
    # An unchanged snapshot is not stored again: one stored batch, the second one confirms it.
    stations = info["rows"]["stations"]
    assert count(s, "select count(*) from raw.water__stations") == stations
    assert count(s, "select count(distinct _batch_id) from raw.water__stations") == 1
    confirmed = count(
        s,
        "select count(*) from ops.batches where dataset = 'stations' and status = 'loaded' "
        f"and inserted_count = 0 and unchanged_count = {stations}",
    )
    assert confirmed == 1
    assert (
        count(
            s,
            "select count(*) from (select _batch_id, stcd from raw.water__stations group by 1, 2 "
            "having count(*) > 1) d",
        )
        == 0
    )
    assert count(s, "select count(*) from raw.water__rainfall where _source <> 'water' or _batch_id is null") == 0


def test_char_padding_is_stripped_and_tm_is_local_time(water) -> None:
    s, info = water.settings, water.info
    ingest("water", s, until=NOW)
    # 6-character legacy codes come back as '411004  ' from PostgreSQL's CHAR(8).
    assert count(s, "select count(*) from raw.water__stations where length(stcd) = 6") > 0
    for table, column in (("stations", "stcd"), ("stations", "stnm"), ("rainfall", "stcd"), ("river", "wptn")):
        assert count(s, f"select count(*) from raw.water__{table} where {column} like '% '") == 0
    # Blank FLWCHRCD ("normal") is null; the peak hour carries 6.
    assert count(s, "select count(*) from raw.water__river where flwchrcd = '6'") > 0
    assert count(s, "select count(*) from raw.water__river where flwchrcd = ''") == 0
    heavy = info["heavy_rain"]
    hour = water.local(heavy["hour"])
    mm = count(
        s,
        "select round(sum(drp))::int from raw.water__rainfall where stcd = :g and tm > :a and tm <= :b",
        g=heavy["stcd"],
        a=hour - timedelta(hours=2),
        b=hour + timedelta(hours=1),
    )
    assert mm >= 50  # the 3 hours to the storm's peak reach the orange rainstorm signal's criterion
    # TM 10:30 local is 02:30 UTC.
    newest = count(s, "select extract(epoch from max(tm))::bigint from raw.water__rainfall")
    assert newest == int(NOW.timestamp())


def test_late_backlog_within_the_lookback_is_picked_up(water) -> None:
    s, url, info = water.settings, water.url, water.info
    ingest("water", s, until=NOW)
    cursor = ops.get_cursor(s, "water", "rainfall")
    gauge, since = info["offline_gauge"], water.local(info["offline_since"])
    backlog_sql = "select count(*) from raw.water__rainfall where stcd = :g and tm > :a and tm <= :b"
    assert count(s, backlog_sql, g=gauge, a=since, b=NOW) == 0
    later = NOW + timedelta(hours=1)
    result = append(url, seed=water.seed, until=later, corrections=False)
    assert result["backlog_rows"] == 72  # 6 hours of 5-minute periods, all older than the cursor
    ingest("water", s, until=later)
    assert count(s, backlog_sql, g=gauge, a=since, b=NOW) == 72
    assert ops.get_cursor(s, "water", "rainfall") == "2026-07-29T11:30:00+08:00" != cursor
    assert count(s, "select count(*) from raw.water__rainfall") == _source_count(url, "ST_PPTN_R")
    assert _versions(s, "rainfall") == 0


def test_in_place_correction_arrives_as_a_new_version(water) -> None:
    s, url = water.settings, water.url
    ingest("water", s, until=NOW)
    later = NOW + timedelta(hours=1)
    fixes = append(url, seed=water.seed, until=later)["corrections"]
    assert {f["table"] for f in fixes} == {"ST_PPTN_R", "ST_RIVER_R"}
    ingest("water", s, until=later)
    for fix in fixes:
        table, column = ("rainfall", "drp") if fix["table"] == "ST_PPTN_R" else ("river", "z")
        tm = water.local(fix["tm"])
        values = warehouse.column(
            s,
            f"select {column} from raw.water__{table} where stcd = :s and tm = :t order by _extracted_at",
            s=fix["stcd"],
            t=tm,
        )
        assert values == [float(fix["old"]), float(fix["new"])]
    # Only the corrected keys have two versions.
    assert repeated_keys(s, "raw.water__rainfall", "stcd", "tm") == 1


def test_malformed_rows_are_quarantined_and_the_rest_loads(water) -> None:
    s, url = water.settings, water.url
    broken = damage(url, seed=water.seed)
    result = ingest("water", s, until=NOW)
    assert result["quarantined"] == 4
    q = warehouse.rows(s, "select dataset, field, reason, locator, record from ops.quarantine")
    by_field = sorted((r["dataset"], r["field"]) for r in q)
    assert by_field == [
        ("rainfall", "drp"),
        ("rainfall", "drp"),
        ("rainfall", "stcd"),
        ("reservoir_flood_limits", "bgmd"),
    ]
    assert all(r["locator"].startswith("landing/water/") and " record " in r["locator"] for r in q)
    negative = [r for r in q if r["field"] == "drp"]
    assert all("negative" in r["reason"] and r["record"]["drp"] == "-3.2" for r in negative)
    assert {r["record"]["stcd"].strip() for r in negative} == {b["stcd"] for b in broken["rainfall"][:2]}
    # The good rows of the same pages are all there.
    assert count(s, "select count(*) from raw.water__rainfall") == _source_count(url, "ST_PPTN_R") - 3
    assert count(s, "select count(*) from raw.water__reservoir_flood_limits") == (
        _source_count(url, "ST_RSVRFSR_B") - 1
    )


def test_outage_is_a_clear_error_and_the_cursor_stays(water, tmp_path, monkeypatch) -> None:
    url = water.url
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = sa.make_url(url).set(port=port, password="s3cret-pw").render_as_string(hide_password=False)
    credentials = {"password": "EDP_WATER_DB_PASSWORD"}
    configured = write_sources_file(
        tmp_path, "water", url=closed, credentials=credentials, max_attempts=2, max_seconds=5
    )
    s2 = point_at(monkeypatch, "water", closed, sources_file=configured)
    src = build_source(s2, "water")
    try:
        checked = src.check()
    finally:
        src.close()
    assert not checked.ok and "still failing after retries" in checked.message
    with pytest.raises(SourceUnavailable, match="still failing after retries") as err:
        ingest("water", s2, until=NOW)
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message and "s3cret-pw" not in message and "***" in message
    assert ops.get_cursor(s2, "water", "rainfall") is None
    assert count(s2, "select count(*) from ops.batches where status = 'loaded'") == 0


def test_new_column_is_kept_in_extra_and_reported(water) -> None:
    s, url = water.settings, water.url
    add_column(url, "ST_PPTN_R", "QCFLAG")
    ingest("water", s, until=NOW)
    extras = warehouse.column(s, "select _extra from raw.water__rainfall where _extra is not null")
    drift = warehouse.scalar(s, "select schema_drift from ops.batches where dataset = 'rainfall'")
    assert extras and all(json.loads(e) if isinstance(e, str) else e for e in extras)
    assert any((json.loads(e) if isinstance(e, str) else e).get("qcflag") == "1" for e in extras)
    assert drift == {"new_columns": ["qcflag"]}


def test_read_only_account_gets_the_configured_password(water, server_url, dbms, monkeypatch) -> None:
    s, url = water.settings, water.url
    database = sa.make_url(url).database
    user = f"edp_reader_{uuid.uuid4().hex[:8]}"
    password = source_credential(s, "water", "password")  # the generated credential of this EDP_HOME
    reader_url = create_reader(server_url, database, user, password)
    try:
        assert sa.make_url(reader_url).password is None
        s = point_at(monkeypatch, "water", reader_url)
        src = build_source(s, "water")
        try:
            checked = src.check()
            assert src.url.password == password and password not in src.safe_url
        finally:
            src.close()
        assert checked.ok and checked.details["stations"] > 0
        assert ingest("water", s, until=NOW)["rows"] > 0
        if dbms == "mariadb":  # PostgreSQL on loopback trusts everyone; MariaDB checks the password
            monkeypatch.setenv("EDP_WATER_DB_PASSWORD", "wrong-password")
            bad = build_source(Settings(), "water")
            try:
                with pytest.raises(SourceRejected, match="refused the account"):
                    list(bad.read("stations", None, NOW))
            finally:
                bad.close()
    finally:
        drop_reader(server_url, user, (database,))
