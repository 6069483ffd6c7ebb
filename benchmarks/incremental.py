"""What a run costs when little or nothing is new, as a share of the full run.

Usage: uv run python benchmarks/incremental.py [--scale 1] [--days N] [--new-minutes 43]
       [--no-history-as-lived] [--tiny]

On one platform with the stand-ins of all six sources (EDP_SANDBOX_SCALE ``--scale``;
``--days`` as EDP_SANDBOX_DAYS where the checkout has that setting), three runs of the stages
extract → load → transform → check, each stage in its own process:

1. full: everything the stand-ins hold up to ``now - new-minutes`` (the baseline);
2. nothing new: the same again (same ``until``): must add 0 rows;
3. new data: up to ``now``; the last ``new-minutes`` are about 1% of a 3-day history (the
   share of rows actually new is printed; sources with a longer history or snapshots differ).

The full run reads its whole history in one extraction, where a platform that has run for that
long extracted each reading soon after it happened. With the history's extraction times all within
the incremental models' lookback (var incremental_lookback_hours), the later runs would re-read
everything; so, before the full run's transform, each time series' raw rows get the extraction
time they would have had (their own time plus ten minutes: SL 323 TM, the weather observations'
obs_time). ``--no-history-as-lived`` leaves them as extracted.

Targets (read, not asserted): nothing new adds 0 rows and its load ≤ 10% of the full run's;
with about 1% new data, transform and check ≤ 10% of the full run's.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import _support as S

# Time series and the column their rows happen at.
LIVED = {"water__rainfall": "tm", "water__river": "tm", "water__reservoir": "tm", "weather__observations": "obs_time"}


def age_history(url: str) -> int:
    """Give each time series' raw rows the extraction time they would have had on a running platform."""
    import sqlalchemy as sa

    eng = sa.create_engine(S.plain_url(url).replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.NullPool)
    aged = 0
    try:
        with eng.begin() as c:
            for table, at in LIVED.items():
                sql = f"update raw.{table} set _extracted_at = {at} + interval '10 minutes' "
                aged += c.execute(sa.text(sql + f"where {at} + interval '10 minutes' < _extracted_at")).rowcount
        with eng.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            # Rewritten, as if appended in time order: the update left each old version's page, with its
            # extraction time of today, in every BRIN range, and a later run's "rows since the watermark"
            # would read all of raw (stg_water__rain_readings 5.3 s with nothing new instead of 0.1 s).
            for table in LIVED:
                c.execute(sa.text(f"vacuum full raw.{table}"))
            c.execute(sa.text("analyze"))
    finally:
        eng.dispose()
    return aged


def run_all(
    scale: float,
    days: int | None,
    stages: list[str],
    runs: tuple[tuple[str, datetime], ...],
    budget: float,
    notes: list[str],
    as_lived: bool = True,
) -> tuple[dict[str, dict[str, S.Outcome]], dict[str, int]]:
    """The three runs on one platform; what went wrong is appended to ``notes``."""
    results: dict[str, dict[str, S.Outcome]] = {}
    with S.sandbox_platform(scale, days) as (_home, url, env):
        for label, until in runs:
            before = S.raw_table_rows(url)
            results[label] = {}
            for stage in stages:
                if label == "full" and stage == "transform" and as_lived:
                    notes.append(f"history as lived: {age_history(url):,} raw rows given their own time + 10 min")
                out = S.run_case(S.stage_in_child, stage, until.isoformat(), budget=budget, env=env)
                results[label][stage] = out
                if not out.ok:
                    notes.append(f"{label} / {stage}: {out.error}")
            if label == "nothing new":
                grew = {t: n - before.get(t, 0) for t, n in S.raw_table_rows(url).items() if n > before.get(t, 0)}
                if grew:
                    notes.append("nothing new, yet raw grew: " + ", ".join(f"{t} +{n:,}" for t, n in grew.items()))
        layers = S.layer_rows(url)
    return results, layers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="sandbox scale (EDP_SANDBOX_SCALE)")
    parser.add_argument("--days", type=int, default=None, help="stand-in history in days (EDP_SANDBOX_DAYS)")
    parser.add_argument("--new-minutes", type=float, default=43.0, help="minutes of new data in the third run")
    parser.add_argument("--stages", default=",".join(S.STAGES), help=f"stages to run, of {', '.join(S.STAGES)}")
    parser.add_argument("--budget", type=float, default=1800, help="seconds per stage before it is skipped")
    parser.add_argument(
        "--history-as-lived",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="before the full run's transform, date each time series' rows as extracted when they happened",
    )
    parser.add_argument("--tiny", action="store_true", help="smoke run: scale 0.05, extract and load only")
    args = parser.parse_args()
    if args.tiny:
        args.scale, args.stages, args.budget = 0.05, "extract,load", 300.0
    stages = [s for s in args.stages.split(",") if s]
    now = datetime.now(UTC)
    cut = now - timedelta(minutes=args.new_minutes)
    runs = (("full", cut), ("nothing new", cut), ("new data", now))
    S.describe_run(
        f"incremental: full run, rerun with nothing new, run with {args.new_minutes:g} min new (scale {args.scale})"
    )
    notes = []
    if args.days is not None and not S.sandbox_days_supported():
        notes.append(f"--days {args.days}: this checkout has no EDP_SANDBOX_DAYS setting; the default history ran")
    results, layers = run_all(args.scale, args.days, stages, runs, args.budget, notes, args.history_as_lived)

    def cell(label: str, stage: str) -> tuple[float | None, int | None]:
        out = results[label].get(stage)
        if out is None or not out.ok or not out.value:
            return None, None
        return out.seconds, out.value.get("rows")

    lines = []
    for stage in stages:
        full_s, full_rows = cell("full", stage)
        row = [stage, S.secs(full_s), "-" if full_rows is None else f"{full_rows:,}"]
        for label in ("nothing new", "new data"):
            t, n = cell(label, stage)
            row += [S.secs(t), "-" if n is None else f"{n:,}", S.ratio(t, full_s)]
        lines.append(row)
    _, loaded_full = cell("full", "load")
    _, loaded_new = cell("new data", "load")
    if loaded_full and loaded_new is not None:
        notes.append(
            f"new data run: {loaded_new:,} rows added to raw = {100 * loaded_new / loaded_full:.2f}% of the full run's"
        )
    S.print_table(
        "incremental runs (share = seconds ÷ the full run's seconds of the same stage)",
        [
            "stage",
            "full s",
            "full rows",
            "nothing new s",
            "nothing new rows",
            "nothing new share",
            "new data s",
            "new data rows",
            "new data share",
        ],
        lines,
        [
            *notes,
            "rows: extract = rows written to the lake, load = rows added to raw",
            "targets: nothing new: load rows 0 and share ≤ 0.10; new data: transform and check share ≤ 0.10",
            "layers at the end: " + ", ".join(f"{k} {v:,}" for k, v in sorted(layers.items())),
        ],
    )


if __name__ == "__main__":
    main()
