"""The whole pipeline at two data sizes: time and peak RSS of each stage, and their ratio.

Usage: uv run python benchmarks/pipeline_scale.py [--scales 0.5,5] [--days N] [--stages ...] [--tiny]

For each scale (EDP_SANDBOX_SCALE of the stand-ins of all six sources; ``--days`` is passed
as EDP_SANDBOX_DAYS where the checkout has that setting) a fresh platform runs the stages as
the CLI and the DAGs do, each in its own process: extract (every source into the lake), load
(``load_pending``: lake → raw), transform (``dbt build``), check (the GX suites).
The second scale's figures are given as ratios to the first's.

Target (read, not asserted): 10× the rows costs ≤ 1.3× the peak RSS in extract and load.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

import _support as S


def run_scale(scale: float, days: int | None, stages: list[str], budget: float) -> dict[str, Any]:
    until = datetime.now(UTC).isoformat()
    out: dict[str, Any] = {}
    with S.sandbox_platform(scale, days) as (_home, url, env):
        for stage in stages:
            result = S.run_case(S.stage_in_child, stage, until, budget=budget, env=env)
            out[stage] = result
            if not result.ok:
                break
        out["layers"] = S.layer_rows(url)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="0.5,5", help="two sandbox scales, the second the larger")
    parser.add_argument("--days", type=int, default=None, help="stand-in history in days (EDP_SANDBOX_DAYS)")
    parser.add_argument("--stages", default=",".join(S.STAGES), help=f"stages to run, of {', '.join(S.STAGES)}")
    parser.add_argument("--budget", type=float, default=1800, help="seconds per stage before it is skipped")
    parser.add_argument("--tiny", action="store_true", help="smoke run: scales 0.02 and 0.2, extract and load")
    args = parser.parse_args()
    if args.tiny:
        args.scales, args.stages, args.budget = "0.02,0.2", "extract,load", 300.0
    scales = [float(x) for x in args.scales.split(",")]
    stages = [s for s in args.stages.split(",") if s]
    S.describe_run(f"pipeline_scale: stages at sandbox scales {' and '.join(map(str, scales))}")
    notes = []
    if args.days is not None and not S.sandbox_days_supported():
        notes.append(f"--days {args.days}: this checkout has no EDP_SANDBOX_DAYS setting; the default history ran")
    runs = [run_scale(scale, args.days, stages, args.budget) for scale in scales]
    small, large = runs[0], runs[-1]
    lines = []
    for stage in stages:
        a, b = small.get(stage), large.get(stage)
        if a is None or b is None:
            lines.append([stage, *["-"] * 8, "not run"])
            continue
        rows_a = a.value.get("rows") if a.ok and a.value else None
        rows_b = b.value.get("rows") if b.ok and b.value else None
        note = "; ".join(x for x in (a.error, b.error, *(o.value.get("note") for o in (a, b) if o.value)) if x)
        lines.append(
            [
                stage,
                "-" if rows_a is None else f"{rows_a:,}",
                S.secs(a.seconds if a.ok else None),
                S.mb(a.rss_mb),
                "-" if rows_b is None else f"{rows_b:,}",
                S.secs(b.seconds if b.ok else None),
                S.mb(b.rss_mb),
                S.ratio(b.seconds if b.ok else None, a.seconds if a.ok else None),
                S.ratio(b.rss_mb, a.rss_mb),
                note,
            ]
        )
    s0, s1 = scales[0], scales[-1]
    S.print_table(
        f"pipeline stages at scale {s0} and {s1}",
        [
            "stage",
            f"rows@{s0}",
            f"s@{s0}",
            f"RSS MB@{s0}",
            f"rows@{s1}",
            f"s@{s1}",
            f"RSS MB@{s1}",
            "time x",
            "RSS x",
            "note",
        ],
        lines,
        [
            *notes,
            f"layers after scale {s0}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(small["layers"].items())),
            f"layers after scale {s1}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(large["layers"].items())),
            "time x / RSS x: the larger scale ÷ the smaller; target RSS x ≤ 1.30 for extract and load at 10x the rows",
            "rows: extract = rows written to the lake, load = rows added to raw",
        ],
    )


if __name__ == "__main__":
    main()
