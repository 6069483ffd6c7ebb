"""What every benchmark shares: throw-away databases, rainfall-like lake batches, child processes, tables.

The benchmarks measure the platform through its public functions only
(``edp.ingest.loader.load_batch(settings, manifest, lake)`` and ``Manifest``),
so they run unchanged on any loader behind that signature.

Each measured case runs in a child process (``run_case``): it reports its own
time and peak RSS, and a case over its time budget is stopped and reported as
"skipped: over budget" instead of hanging the run. Throw-away databases are
dropped ``with (force)``, which also ends a backend a stopped child left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python benchmarks/x.py`: the platform's packages are importable
    sys.path.insert(0, str(REPO))

ADMIN_URL = os.environ.get("EDP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
OVER_BUDGET = "skipped: over budget"


# ── databases and settings ──────────────────────────────────────────────────────────────────────


@contextlib.contextmanager
def throwaway_database(prefix: str = "edp_bench") -> Iterator[str]:
    """A fresh database on the PostgreSQL at ``ADMIN_URL``; dropped (with force) however the block ends."""
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    url = sa.make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        from edp.storage.migrate import migrate_url

        migrate_url(url)
        yield url.replace("postgresql+psycopg://", "postgresql://")
    finally:
        from edp.storage import warehouse

        warehouse._engine_for.cache_clear()
        with admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{name}" with (force)'))
            # Airflow's metadata, when a benchmark ran the services (edp.orchestration.airflow_run).
            c.execute(sa.text(f'drop database if exists "{name}_airflow" with (force)'))
        admin.dispose()


@contextlib.contextmanager
def throwaway_home(prefix: str = "edp-bench-") -> Iterator[Path]:
    """A world-readable temporary EDP_HOME (the server's COPY FROM a file reads below it)."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    home.chmod(0o755)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def bench_settings(home: Path, url: str, **extra: Any) -> Any:
    """Settings for an isolated platform (own home, lake, database), as tests/support/platform.py builds them."""
    from edp.settings import Settings

    return Settings(home=home, warehouse_url=url, **extra)


def platform_env(home: Path, url: str, **extra: str) -> dict[str, str]:
    """The environment of a child process that uses the isolated platform through ``get_settings()``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDP_") or k == "EDP_TEST_PG_URL"}
    env.update({"EDP_HOME": str(home), "EDP_WAREHOUSE_URL": url, **extra})
    return env


def plain_url(url: str) -> str:
    """libpq's form of the URL (psycopg, ADBC)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


# ── rainfall-like batches ───────────────────────────────────────────────────────────────────────

# One county's rain gauges (about 120, each reading every 5 minutes: 35k rows a day). Readings are
# numbered time first, as they arrive: reading i is station i % STATIONS at step i // STATIONS, so
# 10M rows are 290 days of the county and the next 10k rows its next seven hours, as a running
# platform loads them (not new stations reporting the same week again).
STATIONS = 120
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def rain_dataset() -> Any:
    """The water bureau's rainfall (SL 323 ST_PPTN_R) declaration: stcd, tm, drp, intv, pdr, dyp, wth."""
    from connectors.water.datasets import RAINFALL

    return RAINFALL


def rain_rows(n: int, start: int = 0, version: int = 0) -> pa.Table:
    """``n`` readings numbered from ``start``: keys (stcd, tm) are unique per number; ``version`` changes values."""
    ds = rain_dataset()
    i = pa.array(range(start, start + n), pa.int64()).to_numpy()
    station = i % STATIONS
    step = i // STATIONS
    stcd = [f"{41100000 + s:08d}" for s in station.tolist()]
    tm = pa.array((T0.timestamp() * 1e6 + step * 300e6).astype("int64"), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    drp = ((i * 7919 + version * 13) % 500) / 10.0
    columns = {
        "stcd": pa.array(stcd, pa.string()),
        "tm": tm,
        "drp": pa.array(drp, pa.float64()),
        "intv": pa.array([0.05] * n, pa.float64()),
        "pdr": pa.array(((i % 12) / 12.0) * 0.05, pa.float64()),  # within intv (SL 323: pdr ≤ intv)
        "dyp": pa.array([None] * n, pa.float64()),
        "wth": pa.array([("7", "8", "9")[k] for k in (i % 3).tolist()], pa.string()),
        "_extra": pa.array([None] * n, pa.string()),
    }
    return pa.Table.from_pydict(columns, schema=ds.arrow_schema())


def write_rain_batch(settings: Any, table: pa.Table, label: str = "bench") -> Any:
    """Write ``table`` to the lake as one rainfall batch (Parquet + manifest), register it, return its Manifest."""
    from edp.ingest.extract import Manifest, register
    from edp.storage.lake import open_lake

    ds = rain_dataset()
    lake = open_lake(settings)
    at = datetime.now(UTC)
    batch_id = f"{ds.source}.{ds.name}.{at:%Y%m%dT%H%M%S%fZ}.{label}.{uuid.uuid4().hex[:6]}"
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    data = buf.getvalue()
    day = at.strftime("%Y-%m-%d")
    parquet_key = f"normalised/{ds.source}/{ds.name}/{day}/{batch_id}.parquet"
    lake.put_bytes(parquet_key, data)
    manifest = Manifest(
        batch_id=batch_id,
        source=ds.source,
        dataset=ds.name,
        origin="extract",
        extracted_at=at.isoformat(),
        cursor_from=None,
        cursor_to=None,
        source_rows=table.num_rows,
        row_count=table.num_rows,
        quarantined_count=0,
        duplicate_count=0,
        parquet_key=parquet_key,
        parquet_sha256=hashlib.sha256(data).hexdigest(),
        quarantine_key=None,
        landing_keys=[],
        schema=ds.describe(),
        primary_key=list(ds.primary_key),
        mode=ds.mode,
        replace_by=ds.extra.get("replace_by"),
    )
    lake.put_bytes(manifest.key, manifest.to_json(), "application/json")
    register(settings, manifest)
    return manifest


def warm_up(settings: Any) -> None:
    """What a long-running worker has done before its first load: imports made (the first
    ``pq.read_table`` imports pyarrow.dataset and pandas) and the warehouse connected once."""
    import pyarrow.dataset  # noqa: F401

    from edp.storage.warehouse import engine

    with engine(settings).connect():
        pass


def load_in_child(home: str, url: str, manifest_json: bytes) -> dict[str, Any]:
    """Child-process body: load one lake batch through the platform's load path, timed."""
    from edp.ingest.extract import Manifest
    from edp.ingest.loader import load_batch
    from edp.storage.lake import open_lake

    settings = bench_settings(Path(home), url)
    manifest = Manifest.from_json(manifest_json)
    lake = open_lake(settings)
    warm_up(settings)
    started = time.perf_counter()
    result = load_batch(settings, manifest, lake)
    return {"seconds": time.perf_counter() - started, "rows": int(result["rows"])}


def fill_raw(home: str, url: str, rows: int, chunk: int, budget: float) -> str | None:
    """Fill raw rainfall with ``rows`` readings through the load path; why it stopped, or None when done."""
    settings = bench_settings(Path(home), url)
    done = 0
    while done < rows:
        n = min(chunk, rows - done)
        manifest = write_rain_batch(settings, rain_rows(n, start=done), f"fill{done}")
        out = run_case(load_in_child, home, url, manifest.to_json(), budget=budget)
        if not out.ok:
            return f"filling raw: {out.error} at {human(done)} rows"
        done += n
    settle(url)
    return None


def settle(url: str, table: str = "raw.water__rainfall") -> None:
    """Raw as it stands between two runs of a platform that has lived with it: vacuumed and analysed.

    Right after a bulk fill, autovacuum's first pass over the new rows (reading every page to set
    the visibility map) would run beside the measured load, and it would be measuring that pass.
    """
    import psycopg

    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None:  # type: ignore[index]
            conn.execute(f"vacuum (analyze) {table}")


def write_csv(table: pa.Table, path: Path) -> Path:
    """The batch as CSV (header line), readable by the server process."""
    import pyarrow.csv as pcsv

    pcsv.write_csv(table.drop_columns(["_extra"]), path)
    path.chmod(0o644)
    return path


def plain_table_ddl(name: str) -> str:
    from connectors.schema import PG_TYPES

    cols = ", ".join(f'"{f.name}" {PG_TYPES[f.type]}' for f in rain_dataset().fields)
    return f"create table {name} ({cols})"


def copy_in_child(url: str, csv_path: str, table: str) -> dict[str, Any]:
    """Child-process body: server-side ``COPY … FROM 'file'`` into a plain table; ``COPY FROM STDIN`` of the
    same file when the server cannot read it (``via`` says which)."""
    import psycopg

    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute(plain_table_ddl(table))
        started = time.perf_counter()
        try:
            conn.execute(f"copy {table} from '{csv_path}' with (format csv, header true)")
            via = "server file"
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0]
            with conn.cursor() as cur, cur.copy(f"copy {table} from stdin with (format csv, header true)") as copy:
                started = time.perf_counter()
                with open(csv_path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
            via = f"STDIN (server cannot read the file: {reason})"
        seconds = time.perf_counter() - started
        rows = int(conn.execute(f"select count(*) from {table}").fetchone()[0])  # type: ignore[index]
    return {"seconds": seconds, "rows": rows, "via": via}


def adbc_available() -> str | None:
    """None when the ADBC PostgreSQL driver imports, else why not."""
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError as exc:
        return f"ADBC not installed: skipped ({exc.name})"
    return None


def adbc_in_child(url: str, parquet_path: str, table: str) -> dict[str, Any]:
    """Child-process body: Arrow → PostgreSQL with ADBC's bulk ingest (COPY BINARY) into a new plain table."""
    import adbc_driver_postgresql.dbapi as adbc

    data = pq.read_table(parquet_path).drop_columns(["_extra"])
    with adbc.connect(plain_url(url)) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.adbc_ingest(table, data, mode="create")
        conn.commit()
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": data.num_rows}


def raw_rows(url: str, table: str = "raw.water__rainfall") -> int:
    eng = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.NullPool)
    try:
        with eng.connect() as c:
            return int(c.execute(sa.text(f"select count(*) from {table}")).scalar() or 0)
    finally:
        eng.dispose()


# ── child processes ─────────────────────────────────────────────────────────────────────────────


PRELOAD = ["_support", "pyarrow.parquet", "pyarrow.dataset", "psycopg", "edp.ingest.loader", "edp.storage.lake"]


@dataclass
class Outcome:
    """What a child process reported: its result, or why there is none."""

    value: dict[str, Any] | None
    wall: float
    rss_mb: float | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.value is not None

    @property
    def seconds(self) -> float:
        """The time the child measured itself (without its start-up), else its wall time."""
        if self.value and "seconds" in self.value:
            return float(self.value["seconds"])
        return self.wall


def _peak_rss_mb() -> float:
    """Peak RSS of this process and of the processes it waited for (ru_maxrss is KiB on Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _child(conn: Any, fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], env: dict[str, str] | None) -> None:
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    try:
        value = fn(*args)
        conn.send(("ok", value, _peak_rss_mb()))
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}", _peak_rss_mb()))
    finally:
        conn.close()


def run_case(
    fn: Callable[..., dict[str, Any]],
    *args: Any,
    budget: float,
    env: dict[str, str] | None = None,
) -> Outcome:
    """Run ``fn(*args)`` in a process of its own; stop it after ``budget`` seconds.

    Children fork from a server that has imported ``PRELOAD`` (and holds no connection), so a
    case starts in a fraction of a second however slow imports are on the machine.

    ``fn`` returns a dict, with ``seconds`` when it times the measured part itself.
    """
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, env), daemon=True)
    started = time.perf_counter()
    proc.start()
    child.close()
    try:
        if not parent.poll(budget):
            return Outcome(None, time.perf_counter() - started, None, OVER_BUDGET)
        try:
            status, value, rss = parent.recv()
        except EOFError:
            return Outcome(None, time.perf_counter() - started, None, f"child died (exit {proc.exitcode})")
        wall = time.perf_counter() - started
        if status == "ok":
            return Outcome(value, wall, rss)
        return Outcome(None, wall, rss, "failed: " + str(value).strip().splitlines()[0])
    finally:
        if proc.is_alive():
            proc.join(5)
        if proc.is_alive():
            proc.terminate()
            proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join()
        parent.close()


# ── output ──────────────────────────────────────────────────────────────────────────────────────


def ratio(value: float | None, baseline: float | None) -> str:
    if value is None or not baseline:
        return "-"
    return f"{value / baseline:.2f}"


def secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def per_second(rows: int | None, seconds: float | None) -> str:
    if not rows or not seconds:
        return "-"
    return f"{rows / seconds:,.0f}"


def mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], notes: Sequence[str] = ()) -> None:
    """One aligned table: text columns left, figures right; notes below it."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        out = []
        for i, v in enumerate(values):
            left = i == 0 or headers[i] == "note"
            out.append(v.ljust(widths[i]) if left else v.rjust(widths[i]))
        return "  ".join(out).rstrip()

    print(f"\n## {title}")
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print(line(r))
    for n in notes:
        print(f"   {n}")
    sys.stdout.flush()


def describe_run(what: str) -> None:
    """The run's header: what was measured, on which server, when."""
    eng = sa.create_engine(ADMIN_URL, poolclass=sa.NullPool)
    try:
        with eng.connect() as c:
            version = str(c.execute(sa.text("show server_version")).scalar())
    finally:
        eng.dispose()
    host = sa.make_url(ADMIN_URL).host
    print(f"# {what}")
    print(f"# PostgreSQL {version} at {host}; {os.cpu_count()} CPUs; {datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}")
    print("# ratios compare with a baseline measured in this run; absolute seconds depend on the machine's load")
    sys.stdout.flush()


def parse_sizes(text: str) -> list[int]:
    """``10k,100k,1M`` → [10000, 100000, 1000000]."""
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        mult = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        out.append(int(float(part.rstrip("km")) * mult))
    return out


def human(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


# ── the pipeline on the sandbox stand-ins ───────────────────────────────────────────────────────

STAGES = ("extract", "load", "transform", "check")


def sandbox_days_supported() -> bool:
    """Whether this checkout has the EDP_SANDBOX_DAYS setting (history length of the stand-ins)."""
    from edp.settings import Settings

    return "sandbox_days" in Settings.model_fields


@contextlib.contextmanager
def sandbox_platform(scale: float, days: int | None = None) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """An isolated platform (home, database) with the stand-ins of every source running at ``scale``.

    Yields (home, warehouse URL, environment for stage processes). Stops the stand-ins and drops
    the water stand-in's SL 323 database and role (named per home) as well as the warehouse.
    With ``days`` beyond the demo's, the first ingest reads that whole history too (water's
    ``initial_days`` in a copy of sources.yml, ``EDP_WEATHER_INITIAL_DAYS``), as an operator
    taking on a year of data would set them.
    """
    from edp.sandbox.control import departments, sandbox_down, sandbox_up

    extra = {"EDP_SANDBOX_SCALE": str(scale)}
    if days is not None and sandbox_days_supported():
        extra["EDP_SANDBOX_DAYS"] = str(days)
    with throwaway_home() as home, throwaway_database() as url:
        if days is not None and days > DEMO_DAYS:
            extra.update(EDP_SOURCES_FILE=str(_sources_reading(home, days)), EDP_WEATHER_INITIAL_DAYS=str(days))
        env = platform_env(home, url, **extra)
        settings = bench_settings(home, url, sandbox_scale=scale, **_days_field(days))
        water = departments(settings).get("water")
        try:
            sandbox_up(settings)
            yield home, url, env
        finally:
            sandbox_down(settings)
            if water:
                _drop_standin_database(water["database"], water["reader_user"])


DEMO_DAYS = 3


def _sources_reading(home: Path, days: int) -> Path:
    """sources.yml with water's first ingest reading ``days`` back."""
    import yaml

    from edp.settings import Settings

    config = yaml.safe_load(Settings().sources_file.read_text(encoding="utf-8"))
    config["sources"]["water"].setdefault("options", {})["initial_days"] = days
    path = home / "sources.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def _days_field(days: int | None) -> dict[str, Any]:
    return {"sandbox_days": days} if days is not None and sandbox_days_supported() else {}


def _drop_standin_database(database: str, role: str) -> None:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{database}" with (force)'))
            c.execute(sa.text(f'drop role if exists "{role}"'))
    finally:
        admin.dispose()


def _stage_settings() -> Any:
    from edp.settings import get_settings, reset_settings

    reset_settings()
    return get_settings()


def stage_in_child(stage: str, until_iso: str | None = None) -> dict[str, Any]:
    """Child-process body: one pipeline stage as the CLI and the DAGs run it, timed after its imports."""
    settings = _stage_settings()
    if stage == "extract":
        from connectors.registry import SOURCES
        from edp.ingest.extract import DatasetErrors, extract

        until = datetime.fromisoformat(until_iso) if until_iso else None
        started = time.perf_counter()
        rows, failed = 0, []
        for source in SOURCES:
            try:
                rows += sum(m.row_count for m in extract(settings, source, until=until))
            except DatasetErrors as exc:
                rows += sum(m.row_count for m in exc.manifests)
                failed.append(f"{source}: {', '.join(exc.errors)}")
        return {"seconds": time.perf_counter() - started, "rows": rows, "note": "; ".join(failed)}
    if stage == "load":
        from edp.ingest.loader import load_pending

        warm_up(settings)
        started = time.perf_counter()
        loaded = load_pending(settings)
        return {"seconds": time.perf_counter() - started, "rows": sum(int(r["rows"]) for r in loaded)}
    if stage == "transform":
        from edp.orchestration import pipeline

        started = time.perf_counter()
        result = pipeline.transform(settings)
        note = "" if result["success"] else "dbt build failed"
        return {"seconds": time.perf_counter() - started, "rows": None, "note": note}
    if stage == "check":
        import great_expectations  # noqa: F401

        from edp.orchestration import pipeline

        started = time.perf_counter()
        run = pipeline.check(settings)
        return {"seconds": time.perf_counter() - started, "rows": None, "note": f"pass rate {run['pass_rate']:.2f}"}
    raise ValueError(f"unknown stage {stage!r}")


def raw_table_rows(url: str) -> dict[str, int]:
    """Rows per raw table."""
    eng = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.NullPool)
    try:
        with eng.connect() as c:
            names = c.execute(
                sa.text("select table_name from information_schema.tables where table_schema='raw' order by 1")
            ).scalars()
            return {n: int(c.execute(sa.text(f'select count(*) from raw."{n}"')).scalar() or 0) for n in list(names)}
    finally:
        eng.dispose()


def layer_rows(url: str) -> dict[str, int]:
    """Rows per warehouse layer (raw, staging, intermediate, marts), counted exactly."""
    eng = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"), poolclass=sa.NullPool)
    out: dict[str, int] = {}
    try:
        with eng.connect() as c:
            tables = c.execute(
                sa.text(
                    "select table_schema, table_name from information_schema.tables where table_type='BASE TABLE' "
                    "and table_schema in ('raw', 'staging', 'intermediate', 'marts')"
                )
            ).all()
            for schema, table in tables:
                n = c.execute(sa.text(f'select count(*) from "{schema}"."{table}"')).scalar() or 0
                out[schema] = out.get(schema, 0) + int(n)
    finally:
        eng.dispose()
    return out
