"""Incremental builds equal a full refresh, on the sandbox's data.

The sandbox (seed 42, scale SCALE: a quarter of the stations, the same storm
and flagship river station) is started once for the module; every source is
ingested and the three large facts (fct_hazard_event,
fct_division_daily_risk, fct_hazmat_waybill) are built with everything
upstream, ``as_of`` and ``as_of_date`` pinned so nothing depends on the wall
clock. Then later "loads" are written into raw, as the loader would (a new
version is a new row; its lineage columns and ``_row_key``, the loader's key hash):

- late corrections of old rows: a river stage and a rainfall reading of the
  first day, a weather observation, a waybill and a road event;
- corrections of breach episodes: the flagship river station's peak lowered
  below its warning stage (splits its episode) and the reading before the
  episode raised above it (the episode starts earlier, under a new
  event_id); every period of a rainstorm gauge-hour set to 0 mm and a
  weather breach set calm (their events must vanish);
- one batch extracted *before* the last build but loaded after it (a failed
  load retried later), inside var incremental_lookback_hours: only the
  lookback finds it;
- new rows: a new waybill, a tombstone of an existing one, a new
  observation hour.

An incremental build must then hold exactly the rows a ``--full-refresh``
builds, in the three facts and in every incremental model (staging and
intermediate included), and rewrite fewer rows than the facts hold; a rerun
without new raw rows must change nothing. Built with var
incremental_lookback_hours at 0 the comparison fails: the batch loaded out of
order is missed. Four builds in all (the first, the rerun, the incremental,
the full refresh): each costs seconds of dbt start-up, so the module adds no
others.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.registry import connector_package
from edp.ingest.loader import row_key_sql
from edp.orchestration.pipeline import ingest
from edp.sandbox.control import sandbox_down, sandbox_up
from edp.settings import Settings, reset_settings
from edp.storage.migrate import migrate_url
from edp.storage.warehouse import engine
from edp.transform.dbt_runner import DbtResult, run_dbt

pytestmark = pytest.mark.integration

SEED, SCALE = 42, 0.25
SOURCES = ("weather", "water", "police", "transport", "natural_resources", "bureau")
FACTS = ("fct_hazard_event", "fct_division_daily_risk", "fct_hazmat_waybill")
SELECT = " ".join(f"+{fact}" for fact in FACTS)


@dataclass
class Platform:
    settings: Settings
    eng: sa.Engine
    vars: dict[str, Any]
    models: set[str] = field(default_factory=set)

    def build(self, *, full_refresh: bool = False) -> DbtResult:
        args = ["build", "--select", SELECT, "--exclude-resource-type", "test", "unit_test"]
        args += ["--vars", json.dumps(self.vars)]
        result = run_dbt(self.settings, [*args, "--full-refresh"] if full_refresh else args)
        self.models |= {n.name for n in result.nodes if n.resource_type == "model"}
        return result


def scalar(eng: sa.Engine, sql: str, **params: Any) -> Any:
    with eng.connect() as c:
        return c.execute(sa.text(sql), params).scalar_one()


# The time each raw table's rows happen at, for age_raw.
EVENT_TIME = {
    "water__rainfall": "tm",
    "water__river": "tm",
    "water__reservoir": "tm",
    "weather__observations": "updated_at",
    "transport__hazmat_waybills": "updated_at",
    "transport__road_events": "updated_at",
}


def age_raw(eng: sa.Engine) -> None:
    """Spread the extraction times as a live feed would have them: the sandbox is ingested in one go, so every
    row would sit inside the lookback and an incremental run recompute everything. Each row is moved to ten
    minutes after the time it happened (versions keep their order: the seconds between batches are kept)."""
    with eng.begin() as c:
        for table, happened in EVENT_TIME.items():
            c.execute(
                sa.text(
                    f"update raw.{table} set _extracted_at = least(_extracted_at, {happened} + interval '10 minutes'"
                    f" + (_extracted_at - (select min(_extracted_at) from raw.{table})))"
                )
            )


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, pg_admin: sa.Engine | None) -> Iterator[Platform]:
    """An isolated platform (own EDP_HOME and database), every source ingested, one build."""
    home = tmp_path_factory.mktemp("incremental") / "edp-home"
    home.mkdir()
    database = f"edp_test_{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDP_HOME", str(home))
        for var in ("EDP_LAKE_URL", "EDP_ANSHAN_URL", "EDP_SOURCE_WEATHER_URL", "EDP_WAREHOUSE_URL"):
            mp.delenv(var, raising=False)
        if pg_admin is not None:
            with pg_admin.connect() as c:
                c.execute(sa.text(f'create database "{database}"'))
            url = sa.make_url(pg_admin.url).set(database=database).render_as_string(hide_password=False)
            migrate_url(url)
            mp.setenv("EDP_WAREHOUSE_URL", url.replace("postgresql+psycopg://", "postgresql://"))
        reset_settings()
        settings = Settings()
        sandbox_up(settings, seed=SEED, scale=SCALE, storm="summer")  # the rainstorm whatever the date
        try:
            for source in SOURCES:
                ingest(source, settings)
            eng = engine(settings)
            age_raw(eng)
            as_of = scalar(eng, "select max(sent_at) from raw.weather__warnings") + timedelta(minutes=1)
            pinned = {"as_of": as_of.isoformat(), "as_of_date": as_of.date().isoformat()}
            built = Platform(settings, eng, pinned)
            assert built.build().success
            yield built
        finally:
            sandbox_down(settings)
            reset_settings()
            if pg_admin is not None:
                from edp.storage import warehouse

                warehouse._engine_for.cache_clear()
                with pg_admin.connect() as c:
                    c.execute(sa.text(f'drop database if exists "{database}" with (force)'))


# ---------------------------------------------------------------- comparing builds


def compared_tables(platform: Platform) -> list[str]:
    """The facts and every incremental model the builds ran, as schema.table."""
    manifest = json.loads((platform.settings.home / "dbt" / "target" / "manifest.json").read_text(encoding="utf-8"))
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] in platform.models]
    incremental = {n["name"] for n in models if n["config"]["materialized"] == "incremental"}
    return sorted(f"{n['schema']}.{n['name']}" for n in models if n["name"] in incremental | set(FACTS))


def snapshot(platform: Platform, tables: list[str], into: str) -> None:
    """Copy every table as it is now into schema `into`."""
    with platform.eng.begin() as c:
        c.execute(sa.text(f"drop schema if exists {into} cascade"))
        c.execute(sa.text(f"create schema {into}"))
        for table in tables:
            c.execute(sa.text(f"create table {into}.{table.split('.')[1]} as select * from {table}"))


def differences(platform: Platform, tables: list[str], kept: str) -> dict[str, tuple[int, int, int]]:
    """Per table that differs from its copy in `kept`: (rows, rows only now, rows only in the copy)."""
    found = {}
    with platform.eng.connect() as c:
        for table in tables:
            copy = f"{kept}.{table.split('.')[1]}"
            now_only = c.execute(
                sa.text(f"select count(*) from (select * from {table} except all select * from {copy}) as d")
            ).scalar_one()
            copy_only = c.execute(
                sa.text(f"select count(*) from (select * from {copy} except all select * from {table}) as d")
            ).scalar_one()
            if now_only or copy_only:
                found[table] = (c.execute(sa.text(f"select count(*) from {table}")).scalar_one(), now_only, copy_only)
    return found


# ---------------------------------------------------------------- later loads


def add_version(
    c: sa.Connection, table: str, where: str, changes: dict[str, str], batch: str, extracted_at: datetime
) -> None:
    """Append a new version of the newest row of raw.`table` matching `where`, with `changes` (SQL expressions)."""
    columns = c.execute(
        sa.text(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = :t"
            " and column_name not like '\\_%' order by ordinal_position"
        ),
        {"t": table},
    ).scalars()
    listed = [f'"{col}"' for col in columns]
    values = [changes.get(col.strip('"'), col) for col in listed]
    inserted = c.execute(
        sa.text(
            f"insert into raw.{table} ({', '.join(listed)}, _batch_id, _extracted_at, _source)"
            f" select {', '.join(values)}, :b, :x, _source from ("
            f"  select * from raw.{table} where {where} order by _extracted_at desc, _batch_id desc limit 1"
            ") as newest"
        ),
        {"b": batch, "x": extracted_at},
    )
    assert inserted.rowcount == 1, (table, where)


def first_day(table: str) -> str:
    return f"tm < (select min(tm) + interval '1 day' from raw.{table})"


FIRST_OBSERVATION = "(select station_id, obs_time from raw.weather__observations order by obs_time, station_id limit 1)"
LAST_OBSERVATION = (
    "(select station_id, obs_time from raw.weather__observations order by obs_time desc, station_id limit 1)"
)
WAYBILLS = "select distinct waybill_no from raw.transport__hazmat_waybills where not deleted order by waybill_no"
# The flagship river station's highest stage.
RIVER_PEAK = (
    "(trim(stcd), tm) = (select trim(stcd), tm from raw.water__river where trim(stcd) = '21401100'"
    " order by z desc, tm limit 1)"
)
# Where the flagship station's stage breaches: its warning stage (the guaranteed one where it has none).
FLAGSHIP_BREACH = (
    "z >= (select coalesce(wrz, grz) from raw.water__river_thresholds where trim(stcd) = '21401100'"
    " order by _extracted_at desc limit 1)"
)
# The flagship's reading just before its first episode starts.
BEFORE_FLAGSHIP_EPISODE = (
    "(trim(stcd), tm) = (select trim(stcd), max(tm) from raw.water__river where trim(stcd) = '21401100'"
    f" and tm < (select min(tm) from raw.water__river where trim(stcd) = '21401100' and {FLAGSHIP_BREACH})"
    " group by trim(stcd))"
)
# (raw table, which row, changes, batch, extracted): "later" after the last build, "retried" an hour
# before it (a batch loaded out of extraction order, inside the lookback).
LATER_LOADS: list[tuple[str, str, dict[str, str], str, str]] = [
    # Late corrections of old rows: the flood peak lowered below the warning stage (splits its
    # episode); the reading before the episode raised to the peak (the episode starts an hour
    # earlier: a new event_id, the old one gone); a first-day river stage, rainfall (a rainstorm
    # where there was none) and reservoir level.
    ("water__river", RIVER_PEAK, {"z": "z - 5"}, "late-river", "later"),
    (
        "water__river",
        BEFORE_FLAGSHIP_EPISODE,
        {"z": "(select max(z) from raw.water__river where trim(stcd) = '21401100')"},
        "late-river",
        "later",
    ),
    ("water__river", first_day("water__river"), {"z": "z + 0.01"}, "retried-river", "retried"),
    ("water__rainfall", first_day("water__rainfall"), {"drp": "drp + 60"}, "retried-rain", "retried"),
    ("water__reservoir", first_day("water__reservoir"), {"rz": "rz + 0.02"}, "late-reservoir", "later"),
    # Weather: the oldest observation corrected to a gale; a new hour nobody has seen yet.
    (
        "weather__observations",
        f"(station_id, obs_time) = {FIRST_OBSERVATION}",
        {"wind_gust_ms": "30.5", "updated_at": "updated_at + interval '5 hours'"},
        "late-obs",
        "later",
    ),
    (
        "weather__observations",
        f"(station_id, obs_time) = {LAST_OBSERVATION}",
        {"obs_time": "obs_time + interval '1 hour'"},
        "late-obs",
        "later",
    ),
    # Transport: a waybill corrected, one tombstoned, one new; a road event resolved.
    (
        "transport__hazmat_waybills",
        f"waybill_no = ({WAYBILLS} limit 1)",
        {"weight_t": "weight_t + 1", "updated_at": "updated_at + interval '1 day'"},
        "late-waybills",
        "later",
    ),
    (
        "transport__hazmat_waybills",
        f"waybill_no = ({WAYBILLS} offset 1 limit 1)",
        {"deleted": "true", "updated_at": "updated_at + interval '1 day'"},
        "late-waybills",
        "later",
    ),
    (
        "transport__hazmat_waybills",
        f"waybill_no = ({WAYBILLS} offset 2 limit 1)",
        {"waybill_no": "waybill_no || '-NEW'"},
        "late-waybills",
        "later",
    ),
    (
        "transport__road_events",
        "event_id = (select min(event_id) from raw.transport__road_events)",
        {"status": "'已解除'", "updated_at": "updated_at + interval '2 hours'"},
        "retried-road",
        "retried",
    ),
]


# A rainstorm event resting on one gauge's onset (rolling-window 暴雨 rule, docs/design/rainstorm-rule.md;
# no other gauge of its town had an onset that hour): drying that gauge's whole record undoes it.
LONE_RAIN_GAUGE = """
    select windows.rain_window_id, windows.station_id, windows.rain_hour
    from intermediate.int_rain_windows_totalled as windows
    inner join intermediate.int_water_stations_located as stations on windows.station_id = stations.station_id
    where windows.is_onset and not exists (
        select from intermediate.int_rain_windows_totalled as other
        inner join intermediate.int_water_stations_located as other_station
            on other.station_id = other_station.station_id
        where other.is_onset and other.rain_hour = windows.rain_hour and other.station_id <> windows.station_id
            and other_station.division_code = stations.division_code
    )
    order by windows.rain_hour, windows.station_id
    limit 1
"""
# A weather breach event resting on one observation, and the value that undoes it.
LONE_WEATHER_BREACH = """
    select breach_kind, category_code, observation_id, station_id, obs_hour
    from intermediate.int_weather_breaches_detected as breaches
    where not exists (
        select from intermediate.int_weather_breaches_detected as other
        where other.breach_kind = breaches.breach_kind and other.division_code = breaches.division_code
            and other.obs_hour = breaches.obs_hour and other.breach_id <> breaches.breach_id
    )
    order by obs_hour, breach_id
    limit 1
"""
CALM = {"rainstorm": ("precip_1h_mm", "0"), "gale": ("wind_gust_ms", "3"), "fog": ("visibility_m", "20000")}


def remove_breaches(c: sa.Connection, extracted_at: datetime) -> list[str]:
    """Corrections that undo a breach: every wet period of a town's lone rainstorm gauge set to 0 mm, and the
    value of a lone weather breach set calm. Returns the event_ids that must be gone after the next build."""
    rain = c.execute(sa.text(LONE_RAIN_GAUGE)).one()
    periods = c.execute(
        sa.text(
            "insert into raw.water__rainfall (stcd, tm, drp, intv, pdr, dyp, wth, _batch_id, _extracted_at, _source)"
            " select stcd, tm, 0, intv, pdr, dyp, wth, 'late-rain-dry', :x, _source from ("
            "  select distinct on (trim(stcd), tm) * from raw.water__rainfall"
            "  where trim(stcd) = :s"
            "  order by trim(stcd), tm, _extracted_at desc, _batch_id desc) as newest"
            " where drp > 0"
        ),
        {"s": rain.station_id, "x": extracted_at},
    )
    assert periods.rowcount >= 1
    breach = c.execute(sa.text(LONE_WEATHER_BREACH)).one()
    column, calm = CALM[breach.breach_kind]
    add_version(
        c,
        "weather__observations",
        f"station_id = '{breach.station_id}' and obs_time = (select observed_at from"
        f" staging.stg_weather__observations where observation_id = '{breach.observation_id}')",
        {column: calm, "updated_at": "updated_at + interval '1 hour'"},
        "late-obs-calm",
        extracted_at,
    )
    event = "select event_id from intermediate.{} where source_record_id = :r and category_code = :c"
    return [
        c.execute(
            sa.text(event.format("int_rain_breach_events_grouped")), {"r": rain.rain_window_id, "c": "11B03"}
        ).scalar_one(),
        c.execute(
            sa.text(event.format("int_weather_breach_events_grouped")),
            {"r": breach.observation_id, "c": breach.category_code},
        ).scalar_one(),
    ]


def flagship_events(eng: sa.Engine) -> list[tuple[datetime, str]]:
    """The flagship river station's events: (occurred_at, event_id)."""
    with eng.connect() as c:
        found = c.execute(
            sa.text(
                "select occurred_at, event_id from marts.fct_hazard_event"
                " where source_dataset = 'river' and event_id like 'water-river-21401100-%'"
            )
        ).all()
    assert found, "the flagship river station has no episode"
    return sorted((r.occurred_at, r.event_id) for r in found)


def fill_row_keys(c: sa.Connection, table: str) -> None:
    """Give the rows written here the key hash the loader gives every row (incremental staging finds by it)."""
    source, name = table.split("__", 1)
    ds = connector_package(source).DATASETS[name]
    c.execute(sa.text(f"update raw.{table} set _row_key = {row_key_sql(ds)} where _row_key is null"))


def load_later_batches(eng: sa.Engine) -> list[str]:
    """Write LATER_LOADS and the breach removals into raw; returns the event_ids the removals undo."""
    watermark = scalar(eng, "select max(_extracted_at) from raw.water__river")
    extracted = {"later": watermark + timedelta(hours=1), "retried": watermark - timedelta(hours=1)}
    with eng.begin() as c:
        for table, where, changes, batch, when in LATER_LOADS:
            add_version(c, table, where, changes, batch, extracted[when])
        undone = remove_breaches(c, extracted["later"])
        for table in {load[0] for load in LATER_LOADS} | {"water__rainfall", "weather__observations"}:
            fill_row_keys(c, table)
        return undone


# ---------------------------------------------------------------- the tests


def test_rerun_without_new_raw_rows_changes_nothing(platform: Platform) -> None:
    tables = compared_tables(platform)
    snapshot(platform, tables, "before_rerun")
    assert platform.build().success
    assert differences(platform, tables, "before_rerun") == {}


def test_incremental_build_equals_a_full_refresh(platform: Platform) -> None:
    tables = compared_tables(platform)
    snapshot(platform, tables, "before_loads")
    flagship_before = flagship_events(platform.eng)
    removed = load_later_batches(platform.eng)

    result = platform.build()
    assert result.success
    # Incremental: the staging tables and the facts rewrote only the rows the later loads touched.
    for model, table in (
        ("stg_water__river_readings", "staging.stg_water__river_readings"),
        ("int_river_stage_runs", "intermediate.int_river_stage_runs"),
        ("fct_hazard_event", "marts.fct_hazard_event"),
        ("fct_division_daily_risk", "marts.fct_division_daily_risk"),
    ):
        assert 0 < result.node(model).rows_affected < scalar(platform.eng, f"select count(*) from {table}"), model
    changed = differences(platform, tables, "before_loads")
    assert {
        "marts.fct_hazard_event",
        "marts.fct_division_daily_risk",
        "marts.fct_hazmat_waybill",
        "staging.stg_water__river_readings",
    } <= set(changed)
    # The corrections took effect: the breaches undone are gone; the flagship's first episode starts earlier,
    # under a new event_id, the old one gone.
    gone = scalar(platform.eng, "select count(*) from marts.fct_hazard_event where event_id = any(:ids)", ids=removed)
    assert gone == 0
    first_before, first_after = flagship_before[0], flagship_events(platform.eng)[0]
    assert first_after[0] < first_before[0]
    assert first_before[1] not in {event_id for _, event_id in flagship_events(platform.eng)}

    snapshot(platform, tables, "incremental")
    assert platform.build(full_refresh=True).success
    assert differences(platform, tables, "incremental") == {}
