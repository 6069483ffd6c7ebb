"""A year of the water stand-in: time and peak memory to create it, and to read it back in pages.

Usage: uv run python benchmarks/standins_year.py [--days 365] [--scale 1.5] [--read-days 30]

Populates a throw-away SL 323 database on the PostgreSQL at EDP_TEST_PG_URL
(default the local server at 127.0.0.1:5432) twice, the demo's 3 days
(baseline) and ``--days`` days, then reads the newest ``--read-days`` days of
ST_PPTN_R through the water connector's pages. Scale 1 has 80 rain gauges
(79 in use); scale 1.5 has 120, about 12.6 million rainfall rows a year.
Peak RSS is this process's (the generation itself runs in PostgreSQL).
Prints one line per step; the databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

ADMIN = os.environ.get("EDP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 7, 29, 10, 30)  # naive local time


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database_size(url: str) -> str:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as c:
            return str(c.execute(sa.text("select pg_size_pretty(pg_database_size(current_database()))")).scalar())
    finally:
        engine.dispose()


def populate_once(days: int, scale: float) -> tuple[str, str]:
    from standins.water import create_database, populate

    name = f"sl323_bench_{uuid.uuid4().hex[:8]}"
    url = create_database(ADMIN, name)
    started = time.monotonic()
    info = populate(
        url,
        seed=42,
        scale=scale,
        now=NOW,
        days=days,
        progress=lambda m: print(f"  {time.monotonic() - started:6.1f} s  {m}", flush=True),
    )
    elapsed = time.monotonic() - started
    rain = info["rows"]["rainfall"]
    print(
        f"populate days={days} scale={scale}: {rain:,} rainfall, {info['rows']['river']:,} river, "
        f"{info['rows']['reservoir']:,} reservoir rows in {elapsed:.1f} s ({rain / elapsed:,.0f} rainfall rows/s); "
        f"database {database_size(url)}; peak RSS {peak_rss_mib():.0f} MiB",
        flush=True,
    )
    return name, url


def read_pages(url: str, days: int) -> None:
    from connectors.water.source import WaterSource

    src = WaterSource(sa.make_url(url), initial_days=days)
    started, pages, rows, largest = time.monotonic(), 0, 0, 0
    try:
        for page in src.read("rainfall", None, NOW + timedelta(minutes=1) - timedelta(hours=8)):
            pages, rows, largest = pages + 1, rows + len(page.records), max(largest, len(page.records))
    finally:
        src.close()
    elapsed = time.monotonic() - started
    print(
        f"read {days} days of ST_PPTN_R: {rows:,} rows in {pages} pages (largest {largest:,}, "
        f"limit {src.page_size:,}) in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s); "
        f"peak RSS {peak_rss_mib():.0f} MiB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--scale", type=float, default=1.5)
    parser.add_argument("--read-days", type=int, default=30)
    args = parser.parse_args()
    from standins.water import drop_database

    names = []
    try:
        name, _ = populate_once(3, args.scale)  # baseline: the demo's length
        names.append(name)
        name, url = populate_once(args.days, args.scale)
        names.append(name)
        if args.read_days:
            read_pages(url, args.read_days)
    finally:
        for name in names:
            drop_database(ADMIN, name)


if __name__ == "__main__":
    main()
