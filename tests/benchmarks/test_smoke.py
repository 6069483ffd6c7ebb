"""Each benchmark at its ``--tiny`` size, so none can rot: it exits 0 and prints its table with ratios.

The full sizes run with ``make bench``; the figures are read, not asserted. What is asserted
here is the shape of the output: the expected rows are there and their ratio columns parse
as positive numbers (a crash, an empty table or a "-" where a ratio belongs fails).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


Runs = dict[str, subprocess.CompletedProcess[str]]
SCRIPTS = (
    "load_throughput.py",
    "load_scaling.py",
    "pipeline_scale.py",
    "incremental.py",
    "sync_throughput.py",
    "check_scope.py",
)


@pytest.fixture(scope="module")
def tiny_runs(pg_admin: sa.Engine | None) -> Runs:
    """Every script at ``--tiny``, all at once: they mostly wait on the server, so together they take one's time."""
    if pg_admin is None:
        pytest.skip("the benchmarks need the PostgreSQL server of EDP_TEST_PG_URL (none answers)")
    running = {
        script: subprocess.Popen(
            [sys.executable, str(REPO / "benchmarks" / script), "--tiny"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for script in SCRIPTS
    }
    done = {}
    try:
        for script, proc in running.items():
            out, err = proc.communicate(timeout=900)
            done[script] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    finally:
        for proc in running.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done


def run_tiny(script: str, tiny_runs: Runs) -> str:
    proc = tiny_runs[script]
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    return proc.stdout


def table(output: str, title: str) -> list[dict[str, str]]:
    """The rows of the table whose title starts with ``title``, as {header: cell}."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {title}"))
    headers = re.split(r"\s{2,}", lines[start + 1].strip())
    rows = []
    for line in lines[start + 3 :]:
        if not line.strip() or line.startswith(("   ", "#")):
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows.append(dict(zip(headers, cells, strict=False)))
    return rows


def row(rows: list[dict[str, str]], first: str) -> dict[str, str]:
    return next(r for r in rows if next(iter(r.values())).startswith(first))


def positive(cell: str) -> float:
    value = float(cell.replace(",", ""))
    assert value > 0, cell
    return value


def test_load_throughput_compares_the_load_path_adbc_and_dlt_with_server_copy(
    tiny_runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    rows = table(run_tiny("load_throughput.py", tiny_runs), "load throughput")
    assert positive(row(rows, "server COPY")["x COPY"]) == 1.0
    assert positive(row(rows, "platform load_batch")["rows"]) == 5000
    positive(row(rows, "platform load_batch")["x COPY"])
    positive(row(rows, "platform load_batch")["peak RSS MB"])
    positive(row(rows, "ADBC")["x COPY"])
    dlt = row(rows, "dlt")
    assert dlt.get("note", "").startswith("dlt: not installable") or positive(dlt["x COPY"])


def test_load_scaling_by_batch_size_and_raw_size(tiny_runs: Runs) -> None:
    output = run_tiny("load_scaling.py", tiny_runs)
    sizes = table(output, "batch size")
    assert [r["batch rows"] for r in sizes] == ["1k", "5k"]
    for r in sizes:
        positive(r["x COPY"])
        positive(r["per-row x first"])
    held = table(output, "raw size")
    assert [r["raw holds"] for r in held] == ["0", "10k"]
    for r in held:
        assert r["added (each)"] == "1,000"
        assert r["again added"] == "0", "the same rows loaded again must add nothing"
        positive(r["x holding 0"])


def test_pipeline_scale_gives_time_and_rss_ratios_per_stage(
    tiny_runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    rows = table(run_tiny("pipeline_scale.py", tiny_runs), "pipeline stages")
    assert [r["stage"] for r in rows] == ["extract", "load"]
    for r in rows:
        positive(r["rows@0.02"])
        positive(r["rows@0.2"])
        positive(r["time x"])
        positive(r["RSS x"])


def test_incremental_rerun_adds_nothing_and_gives_shares_of_the_full_run(
    tiny_runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    rows = table(run_tiny("incremental.py", tiny_runs), "incremental runs")
    load = row(rows, "load")
    positive(load["full rows"])
    # The same cut-off again: every re-read row is unchanged, every snapshot identical.
    assert load["nothing new rows"] == "0"
    positive(load["nothing new share"])
    positive(load["new data share"])


def test_check_scope_validates_only_the_new_rows_after_a_full_check(tiny_runs: Runs) -> None:
    rows = table(run_tiny("check_scope.py", tiny_runs), "check of raw.water__rainfall")
    full, window, idle, new = (row(rows, label) for label in ("full", "full, window", "nothing new", "new data"))
    assert positive(full["rows validated"]) == positive(window["rows validated"]) == 20_000
    assert idle["rows validated"] == "0" and "incremental" in idle["note"]
    assert positive(new["rows validated"]) == 1_000 and "1 new batches" in new["note"]
    for case in (full, window, idle, new):
        assert "failed" not in case["note"]
        positive(case["share"])


def test_sync_throughput_compares_faults_on_with_off(tiny_runs: Runs) -> None:
    rows = table(run_tiny("sync_throughput.py", tiny_runs), "sync throughput")
    assert positive(row(rows, "faults off")["records"]) == 300
    positive(row(rows, "faults on")["x faults off"])
