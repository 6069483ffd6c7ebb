"""What a quality check costs on a large raw dataset: every current row, or only what is new.

Usage: uv run python benchmarks/check_scope.py [--rows 10M] [--new-share 0.01] [--chunk 1M]
       [--budget 3600] [--no-window] [--tiny]

On one database, ``raw.water__rainfall`` is filled with ``--rows`` readings through the
platform's load path (batches of ``--chunk`` rows), then its suite runs with
``edp.quality.runner.run_checks``, each case in its own process:

1. full: every current row, as a first check does (the baseline);
2. full, as it ran before the work table: the current-rows window in every GX metric query;
3. nothing new: an incremental run;
4. new data: ``--new-share`` × ``--rows`` new readings loaded as one batch, then an incremental run.

Target (read, not asserted): with about 1% new data the check costs at most 10% of the full one.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _support as S

DATASET = "raw.water__rainfall"
CASES = (
    ("full", "full"),
    ("full, window per query", "full-window"),
    ("nothing new", "auto"),
    ("new data", "auto"),
)


def check_in_child(home: str, url: str, how: str) -> dict[str, Any]:
    """Child-process body: one check run of the rainfall suite, timed after its imports."""
    import great_expectations  # noqa: F401

    from edp.quality import runner, scope

    if how == "full-window":

        @contextlib.contextmanager
        def as_before(settings: Any, entry: Any, _scope: Any, _run_id: str) -> Iterator[Any]:
            yield entry

        scope.current_rows_table = as_before  # type: ignore[assignment]
    settings = S.bench_settings(Path(home), url)
    S.warm_up(settings)
    started = time.perf_counter()
    run = runner.run_checks(settings, [DATASET], full=how != "auto")
    seconds = time.perf_counter() - started
    summary = run.datasets[DATASET]
    validated = max((o.element_count or 0 for o in run.outcomes if o.rule_id == "drp_in_range"), default=0)
    failed = sorted({o.rule_id for o in run.outcomes if not o.success})
    note = f"{summary.passed}/{summary.evaluated} passed{' (failed: ' + ', '.join(failed) + ')' if failed else ''}; "
    note += summary.scope
    return {"seconds": seconds, "rows": validated, "note": note}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="10M", help="readings in raw before the checks")
    parser.add_argument("--new-share", type=float, default=0.01, help="new readings of the last case, share of --rows")
    parser.add_argument("--chunk", default="1M", help="rows per batch while filling raw")
    parser.add_argument("--budget", type=float, default=3600, help="seconds per case before it is skipped")
    parser.add_argument("--no-window", action="store_true", help="skip case 2 (the way before the work table)")
    parser.add_argument("--tiny", action="store_true", help="smoke run: 20k rows in 10k batches, 5%% new")
    args = parser.parse_args()
    if args.tiny:
        args.rows, args.chunk, args.new_share, args.budget = "20k", "10k", 0.05, 300.0
    (rows,), (chunk,) = S.parse_sizes(args.rows), S.parse_sizes(args.chunk)
    new = max(1, int(rows * args.new_share))
    S.describe_run(f"check_scope: the rainfall suite over {S.human(rows)} rows, then {S.human(new)} new")
    notes: list[str] = []
    results: dict[str, S.Outcome] = {}
    with S.throwaway_home() as home, S.throwaway_database() as url:
        stopped = S.fill_raw(str(home), url, rows, chunk, args.budget)
        if stopped:
            notes.append(stopped)
        else:
            settings = S.bench_settings(home, url)
            for label, how in CASES:
                if how == "full-window" and args.no_window:
                    continue
                if label == "new data":
                    batch = S.write_rain_batch(settings, S.rain_rows(new, start=rows), "new")
                    load = S.run_case(S.load_in_child, str(home), url, batch.to_json(), budget=args.budget)
                    if not load.ok:
                        notes.append(f"loading the new rows: {load.error}")
                        break
                results[label] = S.run_case(check_in_child, str(home), url, how, budget=args.budget)
    base = results.get("full")
    base_s = base.seconds if base and base.ok else None
    lines = []
    for label, _ in CASES:
        out = results.get(label)
        if out is None:
            lines.append([label, "-", "-", "-", "-", "not run"])
            continue
        value = out.value or {}
        lines.append(
            [
                label,
                "-" if not out.ok else f"{value.get('rows', 0):,}",
                S.secs(out.seconds if out.ok else None),
                S.ratio(out.seconds if out.ok else None, base_s),
                S.mb(out.rss_mb),
                out.error or value.get("note", ""),
            ]
        )
    S.print_table(
        f"check of {DATASET} holding {S.human(rows)} rows (share = seconds ÷ the full check's)",
        ["case", "rows validated", "seconds", "share", "peak RSS MB", "note"],
        lines,
        [
            *notes,
            f"new data: {S.human(new)} new readings in one batch ({100 * args.new_share:g}% of raw)",
            "target: new data share ≤ 0.10",
        ],
    )


if __name__ == "__main__":
    main()
