"""How the platform's load path scales: with the batch size, and with what raw already holds.

Usage: uv run python benchmarks/load_scaling.py [--sizes 10k,100k,1M] [--holding 0,1M,10M]
       [--new 10k] [--repeat 5] [--chunk 1M] [--budget 900] [--tiny]

1. batch size: a batch of each size into an empty ``raw.water__rainfall`` with
   ``load_batch(settings, manifest, lake)``, beside server ``COPY`` of the same rows into a
   plain table; the cost per row is also compared with the smallest batch's.
2. raw size: ``--new`` new rows into raw already holding each ``--holding`` count (filled
   through the same load path in ``--chunk``-row batches), the median of ``--repeat`` such
   batches loaded one after another, as a ratio to raw holding 0; then
   the same rows again under a new batch id (nothing new: 0 rows must be added).

Targets (read, not asserted): 10k new rows cost within 1.5× whether raw holds 0 or 10M rows;
loading the same rows again adds 0 rows.
"""

from __future__ import annotations

import argparse
import statistics

import _support as S


def batch_sizes(sizes: list[int], budget: float) -> None:
    lines = []
    base_per_row: float | None = None
    for n in sizes:
        with S.throwaway_home() as home, S.throwaway_database() as url:
            settings = S.bench_settings(home, url)
            table = S.rain_rows(n)
            manifest = S.write_rain_batch(settings, table, f"size{n}")
            files = home / "bench-files"
            files.mkdir(mode=0o755)
            csv_path = S.write_csv(table, files / "rain.csv")
            copy = S.run_case(S.copy_in_child, url, str(csv_path), "plain_copy", budget=budget)
            load = S.run_case(S.load_in_child, str(home), url, manifest.to_json(), budget=budget)
        copy_s = copy.seconds if copy.ok else None
        if not load.ok:
            lines.append([S.human(n), S.secs(copy_s), "-", "-", "-", "-", "-", load.error or ""])
            continue
        per_row = load.seconds / n
        base_per_row = base_per_row or per_row
        lines.append(
            [
                S.human(n),
                S.secs(copy_s),
                S.secs(load.seconds),
                S.per_second(n, load.seconds),
                S.ratio(load.seconds, copy_s),
                S.ratio(per_row, base_per_row),
                S.mb(load.rss_mb),
                "",
            ]
        )
    S.print_table(
        "batch size: one batch into empty raw",
        ["batch rows", "COPY s", "load s", "load rows/s", "x COPY", "per-row x first", "peak RSS MB", "note"],
        lines,
        [
            "x COPY: load_batch ÷ server COPY of the same rows into a plain table",
            "per-row x first: seconds per row ÷ that of the smallest batch (1.00 = linear)",
        ],
    )


def raw_size(holding: list[int], new: int, chunk: int, budget: float, repeat: int) -> None:
    lines = []
    base: float | None = None
    for held in holding:
        with S.throwaway_home() as home, S.throwaway_database() as url:
            stopped = S.fill_raw(str(home), url, held, chunk, budget)
            if stopped:
                lines.append([S.human(held), S.human(new), "-", "-", "-", "-", "-", "-", stopped])
                continue
            settings = S.bench_settings(home, url)
            # A 10k load takes a tenth of a second: one sample is mostly noise of a shared machine,
            # so each size loads `repeat` batches of new rows and reports the median.
            loads: list[S.Outcome] = []
            for k in range(repeat):
                fresh = S.rain_rows(new, start=held + k * new)
                batch = S.write_rain_batch(settings, fresh, f"new{k}")
                loads.append(S.run_case(S.load_in_child, str(home), url, batch.to_json(), budget=budget))
                if not loads[-1].ok or not loads[-1].value:
                    break
            load = loads[-1]
            if not load.ok or not load.value:
                lines.append([S.human(held), S.human(new), "-", "-", "-", "-", "-", "-", load.error or ""])
                continue
            seconds = statistics.median(out.seconds for out in loads)
            added = min(int(out.value["rows"]) for out in loads if out.value)
            again = S.write_rain_batch(settings, fresh, "again")
            rerun = S.run_case(S.load_in_child, str(home), url, again.to_json(), budget=budget)
            total = S.raw_rows(url)
        base = base if base is not None else seconds
        lines.append(
            [
                S.human(held),
                S.human(new),
                S.secs(seconds),
                f"{added:,}",
                S.ratio(seconds, base),
                S.secs(rerun.seconds) if rerun.ok else "-",
                f"{rerun.value['rows']:,}" if rerun.ok and rerun.value else (rerun.error or "-"),
                S.mb(load.rss_mb),
                f"raw now {total:,} rows",
            ]
        )
    S.print_table(
        f"raw size: {S.human(new)} new rows into raw holding N rows",
        [
            "raw holds",
            "new rows",
            "load s (median)",
            "added (each)",
            "x holding 0",
            "same again s",
            "again added",
            "peak RSS MB",
            "note",
        ],
        lines,
        [
            f"load s: the median of {repeat} batches of {S.human(new)} new rows, one after another",
            f"target: x holding 0 ≤ 1.50 at every size; 'again added' = 0 (the same {S.human(new)} rows, new batch id)",
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10k,100k,1M", help="batch sizes into empty raw")
    parser.add_argument("--holding", default="0,1M,10M", help="rows raw holds before the new rows")
    parser.add_argument("--new", default="10k", help="new rows loaded into each raw size")
    parser.add_argument("--chunk", default="1M", help="batch size used to fill raw")
    parser.add_argument("--budget", type=float, default=900, help="seconds per load before it is skipped")
    parser.add_argument("--repeat", type=int, default=5, help="batches of --new rows per raw size (median)")
    parser.add_argument("--tiny", action="store_true", help="smoke run: 1k and 5k rows, raw holding 0 and 10k")
    args = parser.parse_args()
    if args.tiny:
        args.sizes, args.holding, args.new, args.chunk, args.budget = "1k,5k", "0,10k", "1k", "10k", 120.0
        args.repeat = 2
    S.describe_run("load_scaling: the platform's load path by batch size and by raw size")
    batch_sizes(S.parse_sizes(args.sizes), args.budget)
    raw_size(
        S.parse_sizes(args.holding), S.parse_sizes(args.new)[0], S.parse_sizes(args.chunk)[0], args.budget, args.repeat
    )


if __name__ == "__main__":
    main()
