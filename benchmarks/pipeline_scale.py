"""The whole pipeline at two data sizes: time and peak RSS of each stage, and their ratio.

Usage: uv run python benchmarks/pipeline_scale.py [--scales 0.5,5] [--days N | --days 3,365] [--stages ...] [--tiny]

For each scale (EDP_SANDBOX_SCALE of the stand-ins of all six sources; ``--days`` is passed
as EDP_SANDBOX_DAYS where the checkout has that setting, one value for both runs or one per
run; a history beyond 3 days is read whole by the first ingest) a fresh platform runs the stages as
the CLI and the DAGs do, each in its own process: extract (every source into the lake), load
(``load_pending``: lake → raw), transform (``dbt build``), check (the GX suites).
The second scale's figures are given as ratios to the first's.

Target (read, not asserted): 10× the rows costs ≤ 1.3× the peak RSS in extract and load.

A year of 海城市 data end to end: ``--scales 1.5,1.5 --days 3,365 --budget 7200`` (about 12.6
million rainfall rows; the demo's 3 days are the baseline).
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
    parser.add_argument("--days", default=None, help="stand-in history in days (EDP_SANDBOX_DAYS): N, or N,M per scale")
    parser.add_argument("--stages", default=",".join(S.STAGES), help=f"stages to run, of {', '.join(S.STAGES)}")
    parser.add_argument("--budget", type=float, default=1800, help="seconds per stage before it is skipped")
    parser.add_argument("--tiny", action="store_true", help="smoke run: scales 0.02 and 0.2, extract and load")
    args = parser.parse_args()
    if args.tiny:
        args.scales, args.stages, args.budget = "0.02,0.2", "extract,load", 300.0
    scales = [float(x) for x in args.scales.split(",")]
    days = [int(x) for x in args.days.split(",")] if args.days else [None]
    if len(days) not in (1, len(scales)):
        parser.error("--days: one value, or one per scale")
    days_of = days * len(scales) if len(days) == 1 else days
    stages = [s for s in args.stages.split(",") if s]
    sizes = [f"scale {sc}" + (f", {d} days" if d else "") for sc, d in zip(scales, days_of, strict=True)]
    S.describe_run(f"pipeline_scale: stages at {' and '.join(sizes)}")
    notes = []
    if args.days is not None and not S.sandbox_days_supported():
        notes.append(f"--days {args.days}: this checkout has no EDP_SANDBOX_DAYS setting; the default history ran")
    runs = [run_scale(scale, d, stages, args.budget) for scale, d in zip(scales, days_of, strict=True)]
    small, large = runs[0], runs[-1]
    lines = []
    for stage in stages:
        a, b = small.get(stage), large.get(stage)
        if a is None or b is None:
            lines.append([stage, *["-"] * 9, "not run"])
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
                S.per_second(rows_b, b.seconds if b.ok else None),
                note,
            ]
        )
    s0, s1 = (f"{sc}" + (f"/{d}d" if d else "") for sc, d in ((scales[0], days_of[0]), (scales[-1], days_of[-1])))
    S.print_table(
        f"pipeline stages at {sizes[0]} and {sizes[-1]}",
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
            f"rows/s@{s1}",
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
