"""Records per second pushed to the Anshan stand-in, faults off (baseline) vs on.

Usage: uv run python benchmarks/sync_throughput.py [--records 20000] [--tiny]
Needs a PostgreSQL to create throw-away databases in (EDP_TEST_PG_URL, default
the local server at 127.0.0.1:5432). Prints one table: a line per scenario, with
the ratio of its time to the faults-off baseline.
"""

from __future__ import annotations

import argparse
import time

import _support as S
import sqlalchemy as sa

FAULTS_ON = {"fail_503_rate": 0.15, "fail_429_rate": 0.05, "lost_reply_rate": 0.1, "lost_reply_delay": 1.5}


def scenario(records: int, faults: dict[str, float]) -> tuple[float, int]:
    from standins.anshan.app import create_app
    from standins.server import run_in_thread

    import edp.quality.runner  # noqa: F401  (imported by the quality gate: before the clock starts)
    from edp.exchange.sync import sync
    from edp.secrets import generated_secret
    from edp.settings import Settings
    from edp.storage.warehouse import engine

    with S.throwaway_home() as home, S.throwaway_database() as url:
        base = Settings(home=home, warehouse_url=url)
        app = create_app(
            app_key=generated_secret(base, "anshan_app_key"),
            app_secret=generated_secret(base, "anshan_app_secret"),
            state_dir=home / "city",
            faults=faults,
        )
        with run_in_thread(app) as server:
            s = Settings(home=home, warehouse_url=url, anshan_url=server.url, anshan_timeout_seconds=1.0)
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
            # sync() returns one result per exchanged dataset; only hazard_events has a mart here.
            (result,) = sync(s, datasets=["hazard_events"])
            elapsed = time.perf_counter() - started
            return elapsed, result.sent.get("records", 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--tiny", action="store_true", help="smoke run: 300 records")
    args = parser.parse_args()
    records = 300 if args.tiny else args.records
    S.describe_run(f"sync_throughput: {records} mart rows pushed to the Anshan stand-in")
    lines = []
    base: float | None = None
    for label, faults in (("faults off (baseline)", {}), ("faults on", FAULTS_ON)):
        elapsed, sent = scenario(records, faults)
        base = base or elapsed
        lines.append([label, f"{sent:,}", S.secs(elapsed), S.per_second(sent, elapsed), S.ratio(elapsed, base)])
    S.print_table(
        "sync throughput",
        ["scenario", "records", "seconds", "records/s", "x faults off"],
        lines,
        [f"faults on: {', '.join(f'{k}={v}' for k, v in FAULTS_ON.items())}"],
    )


if __name__ == "__main__":
    main()
