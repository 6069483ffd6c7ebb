"""Raw weather tables with known rows, for the dbt project's integration tests.

Timeline (Asia/Shanghai, +08:00), four stations in two divisions:

- 海州街道 210381001000: 54471 (national) and A3817 (regional)
- 腾鳌镇 210381118000: A3820 (regional); A3830, withdrawn from the second
  stations snapshot, with one observation at 12:00

Batch ``obs-1`` (extracted 2026-11-28 15:05) carries hours 12, 13 and 14.
Batch ``obs-2`` (extracted 21:30, more than the 6 h lookback later) corrects
A3817 at 13:00 (3.5 → 7.5 mm) and re-sends 54471 at 13:00 with the same
updated_at (the later extraction wins the tie). Breaches: fog at 54471 in
hour 13 (320 m); rain at 54471 (62.3 mm) and A3817 (55.0 mm) and a gust of
18.5 m/s at A3820 in hour 14. A3820's hour-13 row is qc = 2 'wrong' with a
40 m/s gust and 100 m visibility that must not count.

``CORRECTION_BATCH`` (extracted the next morning) is inserted by the
incremental test only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from edp.ingest.loader import ensure_declared_raw_tables
from edp.settings import Settings
from edp.storage.warehouse import engine

CST = timezone(timedelta(hours=8))


HAIZHOU = "210381001000"
TENGAO = "210381118000"

STATIONS = {
    "54471": ("海城", 122.75, 40.85, 25.0, HAIZHOU, "national"),
    "A3817": ("海州东", 122.78, 40.86, 30.0, HAIZHOU, "regional"),
    "A3820": ("腾鳌", 122.93, 41.07, 18.0, TENGAO, "regional"),
    # Withdrawn: listed in the first snapshot only; its past observation still counts.
    "A3830": ("腾鳌西", 122.90, 41.05, 20.0, TENGAO, "regional"),
}
WITHDRAWN = "A3830"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=CST)


EXTRACTED_1 = at(28, 15, 5)
EXTRACTED_2 = at(28, 21, 30)
EXTRACTED_3 = at(29, 8, 0)


def obs(
    station: str,
    hour: int,
    *,
    temp: float,
    precip: float,
    gust: float,
    vis: float,
    updated: datetime,
    qc: int = 0,
    day: int = 28,
) -> dict[str, Any]:
    return {
        "station_id": station,
        "obs_time": at(day, hour),
        "temp_c": temp,
        "precip_1h_mm": precip,
        "wind_speed_ms": gust / 2,
        "wind_gust_ms": gust,
        "wind_dir_deg": 270.0,
        "rh_pct": 80.0,
        "visibility_m": vis,
        "pressure_hpa": 1010.0,
        "qc": qc,
        "updated_at": updated,
    }


BATCH_1 = [
    obs("54471", 12, temp=5.0, precip=2.0, gust=5.0, vis=10000, updated=at(28, 12, 5)),
    obs("A3817", 12, temp=6.0, precip=3.0, gust=6.0, vis=9000, updated=at(28, 12, 4)),
    obs("A3820", 12, temp=4.0, precip=0.0, gust=4.0, vis=12000, updated=at(28, 12, 6)),
    obs(WITHDRAWN, 12, temp=3.0, precip=0.2, gust=5.5, vis=11000, updated=at(28, 12, 8)),
    # Fog at 54471 (320 m).
    obs("54471", 13, temp=5.5, precip=2.5, gust=7.0, vis=320, updated=at(28, 13, 20)),
    obs("A3817", 13, temp=6.5, precip=3.5, gust=6.5, vis=1500, updated=at(28, 13, 4)),
    # qc 2 'wrong': counted, but its gale- and fog-sized values must not count.
    obs("A3820", 13, temp=-40.0, precip=0.5, gust=40.0, vis=100, updated=at(28, 13, 6), qc=2),
    # Rain at both 海州 stations (54471 the extreme, reported first); a gale at A3820.
    obs("54471", 14, temp=5.0, precip=62.3, gust=8.0, vis=3000, updated=at(28, 14, 2)),
    obs("A3817", 14, temp=6.0, precip=55.0, gust=9.0, vis=4000, updated=at(28, 14, 7)),
    obs("A3820", 14, temp=4.0, precip=1.0, gust=18.5, vis=8000, updated=at(28, 14, 10)),
]

BATCH_2 = [
    # Correction: the newer updated_at wins (3.5 -> 7.5 mm).
    obs("A3817", 13, temp=6.5, precip=7.5, gust=6.5, vis=1500, updated=at(28, 18, 50)),
    # Same updated_at as in batch 1: the later extraction wins the tie (5.5 -> 5.9 °C).
    obs("54471", 13, temp=5.9, precip=2.5, gust=7.0, vis=320, updated=at(28, 13, 20)),
]

CORRECTION_BATCH = [
    # Gust corrected up: the gale becomes 'extreme' (36.1 / 17.2 >= 2) but was
    # first reported at 14:10 and stays so.
    obs("A3820", 14, temp=4.0, precip=1.0, gust=36.1, vis=8000, updated=at(28, 19, 40)),
    # 62.3 mm corrected down to 48.0: the rainstorm now rests on A3817's 55.0 mm.
    obs("54471", 14, temp=5.0, precip=48.0, gust=8.0, vis=3000, updated=at(28, 19, 45)),
    # Backlog: an hour the mart has never seen.
    obs("A3820", 11, temp=3.5, precip=0.0, gust=3.0, vis=15000, updated=at(28, 11, 5)),
]


def insert_stations(conn: sa.Connection, batch_id: str, extracted_at: datetime, withdrawn: bool = False) -> None:
    conn.execute(
        sa.text(
            "insert into raw.weather__stations (station_id, name, lon, lat, altitude_m, division_code, kind,"
            " active, _batch_id, _extracted_at, _source) values (:sid, :name, :lon, :lat, :alt, :div, :kind,"
            " true, :b, :x, 'weather')"
        ),
        [
            {
                "sid": sid,
                "name": n,
                "lon": lon,
                "lat": lat,
                "alt": alt,
                "div": div,
                "kind": kind,
                "b": batch_id,
                "x": extracted_at,
            }
            for sid, (n, lon, lat, alt, div, kind) in STATIONS.items()
            if not (withdrawn and sid == WITHDRAWN)
        ],
    )


def insert_observations(conn: sa.Connection, rows: list[dict[str, Any]], batch_id: str, extracted_at: datetime) -> None:
    cols = list(rows[0])
    conn.execute(
        sa.text(
            f"insert into raw.weather__observations ({', '.join(cols)}, _batch_id, _extracted_at, _source)"
            f" values ({', '.join(':' + c for c in cols)}, :_batch_id, :_extracted_at, 'weather')"
        ),
        [{**r, "_batch_id": batch_id, "_extracted_at": extracted_at} for r in rows],
    )


@pytest.fixture
def raw_weather(settings: Settings) -> Iterator[sa.Engine]:
    """Every declared raw table (the loader's own DDL), with known weather rows."""
    eng = engine(settings)
    ensure_declared_raw_tables(settings)
    with eng.begin() as conn:
        insert_stations(conn, "stations-1", at(28, 15, 0))
        insert_observations(conn, BATCH_1, "obs-1", EXTRACTED_1)
        insert_stations(conn, "stations-2", at(28, 21, 25), withdrawn=True)
        insert_observations(conn, BATCH_2, "obs-2", EXTRACTED_2)
    yield eng
