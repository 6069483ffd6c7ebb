"""The weather tables the quality layer checks, filled with known rows, and their batches.

Times are relative to the real clock, because the suites compare with the
database's ``now()`` (not-in-the-future, freshness). Every raw batch is also
registered in ``ops.batches`` with figures that reconcile, as the loader
would have left them, and the mart rows are what dbt would build from the
raw rows (the mart suite traces them back).

Stations: 54471 and A3817 in 海州街道, A3818 in 兴海街道. Observations: each
station at 1, 2 and 3 hours ago (batch-1), A3818 missing 4 hours ago (qc 9,
batch-1), and the latest hour re-read by batch-2.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from edp.settings import Settings
from edp.storage.warehouse import engine
from expectations import SUITES
from tests.support.warehouse import execute

RAW = "raw.weather__observations"
STATIONS_TABLE = "raw.weather__stations"
MART = "marts.fct_weather_hourly_extremes"

RAW_DDL = """
create table raw.weather__observations (station_id text, obs_time timestamptz, temp_c double precision,
  precip_1h_mm double precision, wind_speed_ms double precision, wind_gust_ms double precision,
  wind_dir_deg double precision, rh_pct double precision, visibility_m double precision,
  pressure_hpa double precision, qc bigint, updated_at timestamptz, _extra jsonb, _batch_id text not null,
  _extracted_at timestamptz not null, _source text not null,
  _row_key bigint generated always as (hash_record_extended(row(station_id, obs_time), 0)) stored)
"""
STATIONS_DDL = """
create table raw.weather__stations (station_id text, name text, lon double precision, lat double precision,
  altitude_m double precision, division_code text, kind text, active boolean, _extra jsonb,
  _batch_id text not null, _extracted_at timestamptz not null, _source text not null, _row_hash text)
"""
MART_DDL = """
create table marts.fct_weather_hourly_extremes (hourly_extreme_id text primary key,
  division_code text not null, division_name text, obs_hour timestamptz not null, station_count int,
  obs_count int, max_precip_1h_mm double precision, max_wind_gust_ms double precision,
  min_visibility_m double precision, avg_temp_c double precision, updated_at timestamptz,
  source_extracted_at timestamptz)
"""

HAIZHOU, XINGHAI = ("210381001000", "海州街道"), ("210381002000", "兴海街道")
STATION_DIVISIONS = {"54471": HAIZHOU, "A3817": HAIZHOU, "A3818": XINGHAI}
STATIONS = tuple(STATION_DIVISIONS)
# When each fixture batch was extracted (minutes ago): batch-2 re-reads the latest hour later.
EXTRACTED_MINUTES_AGO = {"stations-1": 45, "batch-1": 40, "batch-2": 20, "batch-3": 10}
MEASURES = ("temp_c", "precip_1h_mm", "wind_speed_ms", "wind_gust_ms", "wind_dir_deg", "rh_pct",
            "visibility_m", "pressure_hpa")  # fmt: skip


def this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def extracted_at(batch: str) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=EXTRACTED_MINUTES_AGO.get(batch, 30))


def observation(station: str, hours_ago: int, batch: str, **overrides: Any) -> dict[str, Any]:
    """A plausible observation; ``overrides`` replace single values."""
    row: dict[str, Any] = {
        "station_id": station,
        "obs_time": this_hour() - timedelta(hours=hours_ago),
        "temp_c": 4.5,
        "precip_1h_mm": 1.2,
        "wind_speed_ms": 3.4,
        "wind_gust_ms": 6.8,
        "wind_dir_deg": 225.0,
        "rh_pct": 81.0,
        "visibility_m": 12000.0,
        "pressure_hpa": 1016.3,
        "qc": 0,
        "updated_at": this_hour() - timedelta(hours=hours_ago) + timedelta(minutes=5),
        "_batch_id": batch,
        "_extracted_at": extracted_at(batch),
        "_source": "weather",
    }
    row.update(overrides)
    return row


def good_observations() -> list[dict[str, Any]]:
    rows = [observation(s, h, "batch-1") for s in STATIONS for h in (1, 2, 3)]
    # The next batch re-reads the latest hour (lookback): same keys, another batch, a correction.
    rows += [observation(s, 1, "batch-2", temp_c=4.7, updated_at=this_hour() - timedelta(minutes=30))
             for s in STATIONS]  # fmt: skip
    # A missing observation (qc 9): NULL measures pass every rule.
    rows.append(observation("A3818", 4, "batch-1", qc=9, **dict.fromkeys(MEASURES)))
    return rows


def stations() -> list[dict[str, Any]]:
    return [
        {"station_id": s, "name": f"站 {s}", "lon": 122.75, "lat": 40.85, "altitude_m": 25.0, "division_code": code,
         "kind": "national" if s.isdigit() else "regional", "active": True, "_batch_id": "stations-1",
         "_extracted_at": extracted_at("stations-1"), "_source": "weather"}
        for s, (code, _) in STATION_DIVISIONS.items()
    ]  # fmt: skip


def extreme(code: str, name: str, hours_ago: int, **overrides: Any) -> dict[str, Any]:
    hour = this_hour() - timedelta(hours=hours_ago)
    stations_here = sum(1 for c, _ in STATION_DIVISIONS.values() if c == code)
    row: dict[str, Any] = {
        "hourly_extreme_id": f"{code}-{hour:%Y%m%d%H}",
        "division_code": code,
        "division_name": name,
        "obs_hour": hour,
        "station_count": stations_here,
        "obs_count": stations_here,
        "max_precip_1h_mm": 1.2,
        "max_wind_gust_ms": 6.8,
        "min_visibility_m": 12000.0,
        "avg_temp_c": 4.5,
        "updated_at": datetime.now(UTC),
        "source_extracted_at": datetime.now(UTC) - timedelta(minutes=15),
    }
    row.update(overrides)
    return row


def good_extremes() -> list[dict[str, Any]]:
    """What dbt builds from the fixture's raw rows: every located observation counted once."""
    rows = [extreme(code, name, h) for code, name in (HAIZHOU, XINGHAI) for h in (1, 2, 3)]
    rows.append(extreme(*XINGHAI, 4))
    return rows


def insert(settings: Settings, table: str, rows: list[dict[str, Any]], *, register: bool = True) -> None:
    """Insert rows; raw rows' batches are registered in ops.batches as the loader would (``register``)."""
    columns = list(rows[0])
    sql = f"insert into {table} ({', '.join(columns)}) values ({', '.join(':' + c for c in columns)})"
    with engine(settings).begin() as c:
        c.execute(sa.text(sql), rows)
    if register and table.startswith("raw."):
        register_batches(settings, table, rows)


def register_batches(settings: Settings, table: str, rows: list[dict[str, Any]]) -> None:
    """One loaded batch per ``_batch_id`` of ``rows``, every figure agreeing with them."""
    source, dataset = table.removeprefix("raw.").split("__", 1)
    per_batch: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        per_batch.setdefault(row["_batch_id"], []).append(row)
    with engine(settings).begin() as c:
        for batch_id, batch_rows in per_batch.items():
            c.execute(
                sa.text(
                    "insert into ops.batches (batch_id, source, dataset, status, source_rows, row_count, "
                    "inserted_count, unchanged_count, quarantined_count, duplicate_count, manifest_key, "
                    "extracted_at, loaded_at) values (:b, :s, :d, 'loaded', :n, :n, :n, 0, 0, 0, :m, :at, now()) "
                    "on conflict (batch_id) do update set source_rows = ops.batches.source_rows + :n, "
                    "row_count = ops.batches.row_count + :n, inserted_count = ops.batches.inserted_count + :n"
                ),
                {"b": batch_id, "s": source, "d": dataset, "n": len(batch_rows),
                 "m": f"manifests/{source}/{dataset}/{batch_id}.json", "at": batch_rows[0]["_extracted_at"]},
            )  # fmt: skip


def schedules() -> dict[str, str]:
    return {name: cfg.schedule for name, cfg in Settings().sources().items()}


def rule_count(dataset: str) -> int:
    """Evaluations one run records for a dataset: its rules plus the readability check."""
    return len(SUITES[dataset].build(schedules()).expectations) + 1


def blocking_count(dataset: str) -> int:
    suite = SUITES[dataset].build(schedules())
    return sum(e.meta["severity"] == "blocking" for e in suite.expectations) + 1


def create_weather_tables(settings: Settings) -> None:
    """The checked weather tables (raw observations and stations, the hourly-extremes mart), with good rows."""
    for ddl in (RAW_DDL, STATIONS_DDL, MART_DDL):
        execute(settings, ddl)
    insert(settings, STATIONS_TABLE, stations())
    insert(settings, RAW, good_observations())
    insert(settings, MART, good_extremes())
