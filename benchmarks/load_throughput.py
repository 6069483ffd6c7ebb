"""One rainfall-like batch into PostgreSQL four ways; each as a ratio to server ``COPY`` into a plain table.

Usage: uv run python benchmarks/load_throughput.py [--rows 1M] [--budget 600] [--tiny]

- server COPY (baseline): ``COPY t FROM '<file>.csv'`` of the batch's rows into a plain table
  (``COPY FROM STDIN`` of the same file when the server cannot read it; the output says so);
- platform load path: ``load_batch(settings, manifest, lake)`` of the batch written to the lake
  (Parquet + manifest) into an empty ``raw.water__rainfall``: lineage, hashes, dedup, ops.batches;
- ADBC: the Arrow table with the ADBC PostgreSQL driver's bulk ingest into a new plain table;
- dlt: ``pipeline.run(arrow_table, loader_file_format="csv")`` to PostgreSQL.

Target (read, not asserted): the platform load path ≤ 3× server COPY for a 1M-row batch.
Each case runs in its own process (time and peak RSS of that process) and database.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import _support as S
import pyarrow.parquet as pq


def dlt_available() -> str | None:
    try:
        import dlt  # noqa: F401
    except ImportError as exc:
        return f"dlt: not installable here ({exc.name} missing; add it to the bench group)"
    return None


def dlt_in_child(url: str, parquet_path: str, workdir: str) -> dict[str, Any]:
    """Child-process body: dlt's arrow path with CSV load files into PostgreSQL (extract, normalise, load)."""
    import os

    os.environ["DLT_DATA_DIR"] = workdir
    os.environ["RUNTIME__LOG_LEVEL"] = "WARNING"
    import dlt
    import sqlalchemy as sa

    data = pq.read_table(parquet_path).drop_columns(["_extra"])
    parsed = sa.make_url(S.plain_url(url))
    # dlt insists on a password; a server on trust authentication ignores it.
    credentials = parsed.set(password=parsed.password or "unused").render_as_string(hide_password=False)
    pipeline = dlt.pipeline(
        pipeline_name="edp_bench",
        destination=dlt.destinations.postgres(credentials=credentials),
        dataset_name="dlt_bench",
        pipelines_dir=workdir,
    )
    started = time.perf_counter()
    pipeline.run(data, table_name="rain", loader_file_format="csv")
    return {"seconds": time.perf_counter() - started, "rows": data.num_rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="1M", help="rows in the batch (e.g. 1M, 80k)")
    parser.add_argument("--budget", type=float, default=900, help="seconds per case before it is skipped")
    parser.add_argument("--tiny", action="store_true", help="smoke run: 5k rows, 120 s per case")
    args = parser.parse_args()
    rows = 5_000 if args.tiny else S.parse_sizes(args.rows)[0]
    budget = 120.0 if args.tiny else args.budget

    S.describe_run(f"load_throughput: one {S.human(rows)}-row rainfall batch, four ways into PostgreSQL")
    results: list[tuple[str, S.Outcome | None, str]] = []
    notes: list[str] = []
    with S.throwaway_home() as home, S.throwaway_database() as url:
        settings = S.bench_settings(home, url)
        table = S.rain_rows(rows)
        manifest = S.write_rain_batch(settings, table, "throughput")
        files = home / "bench-files"
        files.mkdir(mode=0o755)
        csv_path = S.write_csv(table, files / "rain.csv")
        parquet_path = files / "rain.parquet"
        pq.write_table(table, parquet_path)

        copy = S.run_case(S.copy_in_child, url, str(csv_path), "plain_copy", budget=budget)
        results.append(("server COPY, plain table (baseline)", copy, ""))
        if copy.ok and copy.value and copy.value["via"] != "server file":
            notes.append(f"server COPY went through {copy.value['via']}")

        load = S.run_case(S.load_in_child, str(home), url, manifest.to_json(), budget=budget)
        results.append(("platform load_batch → raw", load, ""))

        missing = S.adbc_available()
        if missing:
            results.append(("ADBC Arrow → COPY, plain table", None, missing))
        else:
            adbc = S.run_case(S.adbc_in_child, url, str(parquet_path), "plain_adbc", budget=budget)
            results.append(("ADBC Arrow → COPY, plain table", adbc, ""))

        missing = dlt_available()
        if missing:
            results.append(("dlt arrow + csv → table", None, missing))
        else:
            work = Path(home) / "dlt"
            work.mkdir()
            dlt = S.run_case(dlt_in_child, url, str(parquet_path), str(work), budget=budget)
            results.append(("dlt arrow + csv → table", dlt, ""))

    base = copy.seconds if copy.ok else None
    lines = []
    for label, out, why in results:
        if out is None or not out.ok:
            reason = why or (out.error if out else "")
            lines.append([label, S.human(rows), "-", "-", "-", "-", reason])
            continue
        got = int(out.value["rows"]) if out.value else 0
        lines.append(
            [
                label,
                f"{got:,}",
                S.secs(out.seconds),
                S.per_second(got, out.seconds),
                S.ratio(out.seconds, base),
                S.mb(out.rss_mb),
                "",
            ]
        )
    S.print_table(
        f"load throughput, {S.human(rows)} rows",
        ["case", "rows", "seconds", "rows/s", "x COPY", "peak RSS MB", "note"],
        lines,
        [*notes, "target: platform load_batch ≤ 3.00 x COPY (1M rows)", "peak RSS: the case's own process"],
    )


if __name__ == "__main__":
    main()
