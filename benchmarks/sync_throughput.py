"""Records per second pushed to the Anshan stand-in, faults off (baseline) vs on.

Usage: uv run python benchmarks/sync_throughput.py [--records 20000]
Needs a PostgreSQL to create throw-away databases in (EDP_TEST_PG_URL, default
the local server at 127.0.0.1:5432). Prints one line per scenario.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ADMIN = os.environ.get("EDP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FAULTS_ON = {"fail_503_rate": 0.15, "fail_429_rate": 0.05, "lost_reply_rate": 0.1, "lost_reply_delay": 1.5}


def scenario(records: int, faults: dict[str, float]) -> tuple[float, int]:
    from standins.anshan.app import create_app
    from standins.server import run_in_thread

    from edp.exchange.sync import sync
    from edp.secrets import generated_secret
    from edp.settings import Settings
    from edp.storage.warehouse import engine, ensure_schemas

    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    name = f"edp_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    home = Path(tempfile.mkdtemp(prefix="edp-bench-"))
    url = sa.make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        base = Settings(home=home, warehouse_url=url)
        app = create_app(
            app_key=generated_secret(base, "anshan_app_key"),
            app_secret=generated_secret(base, "anshan_app_secret"),
            state_dir=home / "city",
            faults=faults,
        )
        with run_in_thread(app) as server:
            s = Settings(home=home, warehouse_url=url, anshan_url=server.url, anshan_timeout_seconds=1.0)
            ensure_schemas(s)
            with engine(s).begin() as c:
                c.execute(
                    sa.text(
                        "create table marts.fct_hazard_event (event_id text primary key, "
                        "description text, occurred_at timestamptz)"
                    )
                )
                c.execute(
                    sa.text(
                        "insert into marts.fct_hazard_event select 'e-' || g, '降水 ' || g || ' mm', "
                        "now() from generate_series(1, :n) g"
                    ),
                    {"n": records},
                )
            started = time.perf_counter()
            (result,) = sync(s)
            elapsed = time.perf_counter() - started
            return elapsed, result.sent["records"]
    finally:
        from edp.storage import warehouse

        warehouse._engine_for.cache_clear()
        with admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{name}" with (force)'))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    for label, faults in (("faults off (baseline)", {}), ("faults on", FAULTS_ON)):
        elapsed, sent = scenario(args.records, faults)
        print(f"{label:22s} {sent:7d} records in {elapsed:6.2f} s = {sent / elapsed:8.0f} records/s")


if __name__ == "__main__":
    main()
