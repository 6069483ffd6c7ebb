"""Incremental builds equal a full refresh, on the sandbox's data.

The sandbox (seed 42, scale 1) is started once for the module; every source
is ingested and the three large facts (fct_hazard_event,
fct_division_daily_risk, fct_hazmat_waybill) are built with everything
upstream, ``as_of`` and ``as_of_date`` pinned so nothing depends on the wall
clock. Then later "loads" are written into raw, as the loader would (a new
version is a new row; lineage columns only, no ``_row_key``/``_row_hash``):

- late corrections of old rows: a river stage and a rainfall reading of the
  first day, a weather observation, a waybill and a road event;
- one batch extracted *before* the last build but loaded after it (a failed
  load retried later), inside var incremental_lookback_hours: only the
  lookback finds it;
- new rows: a new waybill, a tombstone of an existing one, a new
  observation hour.

An incremental build must then hold exactly the rows a ``--full-refresh``
builds, in the three facts and in every incremental model (staging and
intermediate included); a rerun without new raw rows must change nothing.
Built with var incremental_lookback_hours at 0 the comparison fails: the
batch loaded out of order is missed.
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

from edp.orchestration.pipeline import ingest
from edp.sandbox.control import sandbox_down, sandbox_up
from edp.settings import Settings, reset_settings
from edp.storage.warehouse import engine
from edp.transform.dbt_runner import DbtResult, run_dbt

pytestmark = pytest.mark.integration

SEED, SCALE = 42, 1.0
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
            mp.setenv("EDP_WAREHOUSE_URL", url.replace("postgresql+psycopg://", "postgresql://"))
        reset_settings()
        settings = Settings()
        sandbox_up(settings, seed=SEED, scale=SCALE)
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
# (raw table, which row, changes, batch, extracted): "later" after the last build, "retried" an hour
# before it (a batch loaded out of extraction order, inside the lookback).
LATER_LOADS: list[tuple[str, str, dict[str, str], str, str]] = [
    # Late corrections of old rows: the flood peak lowered below the warning stage (splits its
    # episode); a first-day river stage, rainfall (a rainstorm where there was none) and reservoir level.
    ("water__river", RIVER_PEAK, {"z": "z - 5"}, "late-river", "later"),
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


def load_later_batches(eng: sa.Engine) -> None:
    watermark = scalar(eng, "select max(_extracted_at) from raw.water__river")
    extracted = {"later": watermark + timedelta(hours=1), "retried": watermark - timedelta(hours=1)}
    with eng.begin() as c:
        for table, where, changes, batch, when in LATER_LOADS:
            add_version(c, table, where, changes, batch, extracted[when])


# ---------------------------------------------------------------- the tests


def test_rerun_without_new_raw_rows_changes_nothing(platform: Platform) -> None:
    tables = compared_tables(platform)
    snapshot(platform, tables, "before_rerun")
    assert platform.build().success
    assert differences(platform, tables, "before_rerun") == {}


def test_incremental_build_equals_a_full_refresh(platform: Platform) -> None:
    tables = compared_tables(platform)
    snapshot(platform, tables, "before_loads")
    load_later_batches(platform.eng)

    result = platform.build()
    assert result.success
    # Incremental: the staging tables rewrote only the records the later loads touched.
    assert result.node("stg_water__river_readings").rows_affected < scalar(
        platform.eng, "select count(*) from staging.stg_water__river_readings"
    )
    changed = differences(platform, tables, "before_loads")
    assert {"marts.fct_hazard_event", "marts.fct_hazmat_waybill", "staging.stg_water__river_readings"} <= set(changed)

    snapshot(platform, tables, "incremental")
    assert platform.build(full_refresh=True).success
    assert differences(platform, tables, "incremental") == {}
