"""Fixtures for the quality layer: the two checked tables, filled with known rows.

Times are relative to the real clock, because the suites compare with the
database's ``now()`` (not-in-the-future, freshness).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from edp.settings import Settings
from edp.warehouse import engine, ensure_schemas

RAW = "raw.weather__observations"
MART = "marts.fct_weather_hourly_extremes"

RAW_DDL = """
create table raw.weather__observations (station_id text, obs_time timestamptz, temp_c double precision,
  precip_1h_mm double precision, wind_speed_ms double precision, wind_gust_ms double precision,
  wind_dir_deg double precision, rh_pct double precision, visibility_m double precision,
  pressure_hpa double precision, qc smallint, updated_at timestamptz, _extra jsonb, _batch_id text not null,
  _extracted_at timestamptz not null, _source text not null)
"""
MART_DDL = """
create table marts.fct_weather_hourly_extremes (hourly_extreme_id text primary key,
  division_code text not null, division_name text, obs_hour timestamptz not null, station_count int,
  obs_count int, max_precip_1h_mm double precision, max_wind_gust_ms double precision,
  min_visibility_m double precision, avg_temp_c double precision, updated_at timestamptz,
  source_extracted_at timestamptz)
"""

STATIONS = ("54471", "A3817", "A3818")
DIVISIONS = (("210381001000", "海州街道"), ("210381002000", "兴海街道"))
MEASURES = ("temp_c", "precip_1h_mm", "wind_speed_ms", "wind_gust_ms", "wind_dir_deg", "rh_pct",
            "visibility_m", "pressure_hpa")  # fmt: skip


def this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


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
        "updated_at": datetime.now(UTC) - timedelta(minutes=30),
        "_batch_id": batch,
        "_extracted_at": datetime.now(UTC) - timedelta(minutes=20),
        "_source": "weather",
    }
    row.update(overrides)
    return row


def good_observations() -> list[dict[str, Any]]:
    rows = [observation(s, h, "batch-1") for s in STATIONS for h in (1, 2, 3)]
    # The next batch re-reads the latest hour (lookback): same keys, another batch.
    rows += [observation(s, 1, "batch-2", temp_c=4.7) for s in STATIONS]
    # A missing observation (qc 9): NULL measures pass every rule.
    rows.append(observation("A3818", 4, "batch-1", qc=9, **dict.fromkeys(MEASURES)))
    return rows


def extreme(code: str, name: str, hours_ago: int, **overrides: Any) -> dict[str, Any]:
    hour = this_hour() - timedelta(hours=hours_ago)
    row: dict[str, Any] = {
        "hourly_extreme_id": f"{code}-{hour:%Y%m%d%H}",
        "division_code": code,
        "division_name": name,
        "obs_hour": hour,
        "station_count": 2,
        "obs_count": 2,
        "max_precip_1h_mm": 1.2,
        "max_wind_gust_ms": 6.8,
        "min_visibility_m": 12000.0,
        "avg_temp_c": 4.5,
        "updated_at": datetime.now(UTC),
        "source_extracted_at": datetime.now(UTC) - timedelta(minutes=20),
    }
    row.update(overrides)
    return row


def good_extremes() -> list[dict[str, Any]]:
    return [extreme(code, name, h) for code, name in DIVISIONS for h in (1, 2, 3)]


def insert(settings: Settings, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    sql = f"insert into {table} ({', '.join(columns)}) values ({', '.join(':' + c for c in columns)})"
    with engine(settings).begin() as c:
        c.execute(sa.text(sql), rows)


def execute(settings: Settings, sql: str, **params: Any) -> list[sa.Row[Any]]:
    with engine(settings).begin() as c:
        result = c.execute(sa.text(sql), params)
        return list(result) if result.returns_rows else []


@pytest.fixture
def weather_tables(settings: Settings) -> Settings:
    """Both checked tables, with rows every rule accepts."""
    ensure_schemas(settings)
    execute(settings, RAW_DDL)
    execute(settings, MART_DDL)
    insert(settings, RAW, good_observations())
    insert(settings, MART, good_extremes())
    return settings


@pytest.fixture
def sql(settings: Settings) -> Callable[..., list[sa.Row[Any]]]:
    def run(statement: str, **params: Any) -> list[sa.Row[Any]]:
        return execute(settings, statement, **params)

    return run
