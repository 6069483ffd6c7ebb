"""``edp``: the operator's entry point (海城市应急数据平台 命令行)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer

from connectors.registry import SOURCES
from edp.cli_errors import exit_codes_epilog, set_debug
from edp.cli_output import FormatOption, OutputFormat, emit, resolve
from edp.logs import setup_logging
from edp.settings import get_settings


class _Cli(typer.Typer):
    """An expected failure is one or two lines on stderr and its class's exit code (edp.cli_errors); a bug keeps
    its traceback, never its locals."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from edp.cli_errors import run

        run(super().__call__, *args, **kwargs)


# No locals in tracebacks: they would print connection strings and keys.
app = _Cli(
    help="海城市应急管理局数据治理中台 Haicheng Emergency Data Platform",
    epilog=exit_codes_epilog(),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
sandbox_app = typer.Typer(help="Local stand-ins of the department systems (沙箱).", no_args_is_help=True)
sources_app = typer.Typer(help="Inbound sources (数据源).", no_args_is_help=True)
quarantine_app = typer.Typer(help="Quarantined records (隔离记录): list and replay.", no_args_is_help=True)
sync_app = typer.Typer(
    help="Exchange with the Anshan city platform (鞍山市数据交换). A bare `edp sync` PUSHES new or changed mart "
    "rows to the city (signed, idempotent; exit 1 if a dataset is blocked or a receipt does not verify); "
    "`edp sync status` only looks.",
    invoke_without_command=True,
)
superset_app = typer.Typer(help="Apache Superset dashboards (可视化).", no_args_is_help=True)
superset_users_app = typer.Typer(help="Superset users (用户): analysts and town officers.", no_args_is_help=True)
docs_app = typer.Typer(help="Data Docs and dbt docs (文档).", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(sources_app, name="sources")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(sync_app, name="sync")
app.add_typer(superset_app, name="superset")
superset_app.add_typer(superset_users_app, name="users")
app.add_typer(docs_app, name="docs")


def _emit(data: Any, fmt: OutputFormat | None = None) -> None:
    """What a command reports: a table on a terminal, JSON otherwise, or as ``--format`` says (edp.cli_output)."""
    emit(data, fmt)


def _echo(data: Any) -> None:
    _emit(data)


def _progress() -> AbstractContextManager[Any]:
    """Progress of long work (edp.progress): live on a terminal (stderr), log lines otherwise."""
    from edp.progress import for_terminal, use

    return use(for_terminal())


@app.callback()
def _main(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure (also EDP_DEBUG=1); 调试.")
    ] = False,
) -> None:
    from edp.storage.sessions import set_command

    set_debug(debug)
    # Warehouse sessions are named edp:<subcommand>:<pid> (docs/operations.md, "A command was killed").
    set_command(ctx.invoked_subcommand or "edp")
    setup_logging(get_settings())


@sandbox_app.command("up")
def sandbox_up(
    seed: Annotated[int | None, typer.Option(help="Data seed (default EDP_SANDBOX_SEED).")] = None,
    scale: Annotated[float | None, typer.Option(help="Data size factor (default EDP_SANDBOX_SCALE).")] = None,
    days: Annotated[
        int | None, typer.Option(min=1, help="History length in days (default EDP_SANDBOX_DAYS, 3; 365 = a year).")
    ] = None,
    storm: Annotated[
        str | None,
        typer.Option(
            help="Shared storm of weather and water: 'season' (the month's weather, snow in winter) or 'summer' "
            "(the rainstorm whatever the date); default EDP_SANDBOX_STORM ('season')."
        ),
    ] = None,
    fmt: FormatOption = None,
) -> None:
    """Start the stand-ins of every source configured as `sandbox`, and the 鞍山市 exchange, on loopback."""
    from edp.sandbox.control import sandbox_up as up

    if storm not in (None, "season", "summer"):
        raise typer.BadParameter("--storm must be 'season' or 'summer'")
    _emit(up(get_settings(), seed=seed, scale=scale, days=days, storm=storm), fmt)


@sandbox_app.command("down")
def sandbox_down() -> None:
    """Stop the stand-ins."""
    from edp.sandbox.control import sandbox_down as down

    typer.echo("stopped" if down(get_settings()) else "no sandbox was running")


@sandbox_app.command("status")
def sandbox_status(fmt: FormatOption = None) -> None:
    """Show where the stand-ins listen."""
    from edp.sandbox.control import sandbox_status as st

    _emit(st(get_settings()) or {"running": False}, fmt)


def _render_rows(rows: list[dict[str, Any]], columns: list[tuple[str, str]], fmt: OutputFormat) -> None:
    """The rows as JSON (a list of objects) or as a table with the same fields; ``columns``: (field, header)."""
    if fmt is OutputFormat.json:
        _emit(rows, fmt)
        return
    cells = [[h for _, h in columns]] + [[str(r[f]) for f, _ in columns] for r in rows]
    widths = [max(_width(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        padded = [c + " " * (w - _width(c)) for c, w in zip(line[:-1], widths[:-1], strict=True)]
        typer.echo("  ".join([*padded, line[-1]]).rstrip())


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@sources_app.command("check")
def sources_check(
    fmt: FormatOption = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Seconds each source has to connect and to answer (default EDP_SOURCES_CHECK_TIMEOUT_SECONDS).",
        ),
    ] = None,
) -> None:
    """Check every source at once, one short try each (reachable / refused_credentials / unreachable / wrong_contract).

    Exit 0 when all are reachable, else 3 (any unreachable), 2 (credentials refused, misconfigured), 4 (wrong contract).
    """
    from edp.ingest.source_check import check_sources, exit_code

    output = resolve(fmt)
    checks = check_sources(get_settings(), timeout=timeout)
    columns = [
        ("source", "source 数据源"),
        ("status", "status 状态"),
        ("elapsed_s", "elapsed_s 耗时"),
        ("detail", "detail 说明"),
    ]
    _render_rows([c.row() for c in checks], columns, output)
    raise typer.Exit(exit_code(checks))


@sources_app.command("new")
def sources_new(
    name: Annotated[str, typer.Argument(help="The new source's name, snake_case (e.g. forestry).")],
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", help="A dataset it offers (repeatable; default: records).")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Chinese and English title, e.g. '林业局 forestry bureau'.")] = None,
    root: Annotated[Path | None, typer.Option(help="The repository to write into (default: this one).")] = None,
) -> None:
    """Scaffold a new source (新建数据源): connector, DAG, suites, dbt staging, tests; registered, not configured."""
    from edp.scaffold import new_source
    from edp.settings import REPO_ROOT

    done = new_source(name, root or REPO_ROOT, datasets=tuple(dataset or ("records",)), title=title)
    typer.echo("\n".join(done.lines()))


@app.command("ingest")
def ingest(
    source: Annotated[str | None, typer.Argument(help=f"Source name: {', '.join(SOURCES)}.")] = None,
    all_sources: Annotated[bool, typer.Option("--all", help="Every configured source.")] = False,
    until: Annotated[
        str | None,
        typer.Option(
            help="Read up to this moment, ISO 8601 with its offset (default: now), as an Airflow run reads its "
            "data interval: reruns then read the same window."
        ),
    ] = None,
    fmt: FormatOption = None,
) -> None:
    """Pull new data from a source into the lake and load it into raw."""
    from datetime import datetime

    from edp.ingest.sources import configured_sources
    from edp.orchestration.pipeline import ingest as run

    moment = None
    if until is not None:
        try:
            moment = datetime.fromisoformat(until)
        except ValueError as exc:
            raise typer.BadParameter(f"--until {until!r} is not an ISO 8601 moment") from exc
        if moment.tzinfo is None:
            raise typer.BadParameter(f"--until {until!r} has no offset (e.g. +08:00)")
    settings = get_settings()
    if all_sources:
        names = configured_sources(settings)
    elif source:
        names = [settings.source(source).name]  # an unknown name is refused before the warehouse is reached
    else:
        raise typer.BadParameter("name a source or use --all")
    with _progress():
        results = [run(name, settings, until=moment) for name in names]
    _emit(results, fmt)


@app.command("load")
def load(source: Annotated[str | None, typer.Argument()] = None, fmt: FormatOption = None) -> None:
    """Load batches that are in the lake but not yet in the warehouse."""
    from edp.orchestration.pipeline import load as run

    with _progress():
        result = run(source, get_settings())
    _emit(result, fmt)


@app.command("transform")
def transform(
    select: Annotated[str | None, typer.Option(help="dbt node selection, e.g. +fct_hazard_event.")] = None,
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Rebuild incremental models whole (after an upgrade of them).")
    ] = False,
    fmt: FormatOption = None,
) -> None:
    """Run dbt build (staging → intermediate → marts) with the platform's settings."""
    from edp.orchestration.pipeline import transform as run

    _emit(run(get_settings(), select=select, full_refresh=full_refresh), fmt)


@app.command("dbt-parse")
def dbt_parse(fmt: FormatOption = None) -> None:
    """dbt parse (no query runs): writes $EDP_HOME/dbt/manifest.json, the transform DAG's tasks per model."""
    from edp.orchestration.pipeline import dbt_parse as run

    _emit(run(get_settings()), fmt)


@app.command("check")
def check(
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Validate every current row of raw, not only the batches loaded since the last check "
            "(a full check also runs by itself every EDP_CHECK_FULL_EVERY_HOURS, default 24).",
        ),
    ] = False,
    fmt: FormatOption = None,
) -> None:
    """Run the Great Expectations suites; results go to schema audit, Data Docs to the lake."""
    from edp.quality.runner import run_checks

    run = run_checks(get_settings(), full=full)
    _emit(run.as_dict(), fmt)
    raise typer.Exit(0 if run.success else 1)


@sync_app.callback()
def sync_default(ctx: typer.Context, fmt: FormatOption = None) -> None:
    """Push new or changed mart rows to the Anshan exchange (signed, idempotent)."""
    if ctx.invoked_subcommand is not None:
        return
    from edp.orchestration.pipeline import sync as run

    with _progress():
        result = run(get_settings())
    _emit(result, fmt)
    # A blocked dataset or a batch whose receipt did not verify (it stays pending; an alert is raised).
    failed = any(r["blocked"] or r["sent"].get("protocol_errors") for r in result.values())
    raise typer.Exit(1 if failed else 0)


@sync_app.command("status")
def sync_status(
    rejected: Annotated[
        bool,
        typer.Option(
            "--rejected", help="List each record the city rejected (被退回记录), its reason and its corrected version."
        ),
    ] = False,
    dataset: Annotated[str | None, typer.Option(help="Only this exchange dataset (with --rejected).")] = None,
    held: Annotated[
        bool, typer.Option("--held", help="List the records withheld by row holds (扣留: rule, dataset, key).")
    ] = False,
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="With --held: also write the list as CSV (formulas neutralised).")
    ] = None,
    fmt: FormatOption = None,
) -> None:
    """Per dataset: pending, sent-unacknowledged, protocol errors, accepted, rejected, withheld (扣留), last receipt."""
    from edp.exchange.sync import held as held_records
    from edp.exchange.sync import rejected_records, status

    if rejected:
        _emit(rejected_records(get_settings(), dataset), fmt)
        return
    if not held:
        _emit(status(get_settings()), fmt)
        return
    listed = held_records(get_settings())
    if csv_path is not None:
        from edp.formula_guard import write_csv

        write_csv(csv_path, listed, ["dataset", "record_id", "rule", "held_in", "key", "observed", "held_at"])
    _emit(listed, fmt)


@sync_app.command("reconcile")
def sync_reconcile(
    day: Annotated[str, typer.Option("--date", help="The Asia/Shanghai day, YYYY-MM-DD.")],
    fmt: FormatOption = None,
) -> None:
    """Compare the city's reconciliation (对账) with the local ledger; exit 1 on any difference."""
    from edp.cli_errors import parse_day
    from edp.exchange.ledger import reconcile

    result = reconcile(get_settings(), parse_day(day, "--date"))
    _emit(result, fmt)
    raise typer.Exit(0 if all(r["agrees"] for r in result) else 1)


@sync_app.command("feedback")
def sync_feedback(fmt: FormatOption = None) -> None:
    """Pull the city's doubted records (疑义数据) and list those not yet answered."""
    from edp.exchange.ledger import pull_feedback

    _emit(pull_feedback(get_settings()), fmt)


@quarantine_app.command("list")
def quarantine_list(source: Annotated[str | None, typer.Argument()] = None, fmt: FormatOption = None) -> None:
    """Quarantined records by source, dataset and reason."""
    from edp.ingest.quarantine import summary

    _emit(summary(get_settings(), source), fmt)


@quarantine_app.command("replay")
def quarantine_replay(source: Annotated[str, typer.Argument()], fmt: FormatOption = None) -> None:
    """Re-process a source's quarantined records after a fix."""
    from edp.ingest.quarantine import replay

    _emit(replay(get_settings(), source), fmt)


@superset_app.command("provision")
def superset_provision(fmt: FormatOption = None) -> None:
    """Start or reach Superset, create the read-only connection, import dashboards."""
    from edp.serve.superset import provision

    _emit(provision(get_settings()), fmt)


@superset_app.command("assets")
def superset_assets(
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if the generated files are out of step.")
    ] = False,
    fmt: FormatOption = None,
) -> None:
    """Regenerate the dashboards' asset YAML and dbt exposures from infra/superset/dashboards (看板代码)."""
    from edp.serve.superset import SupersetError
    from edp.serve.superset.dashboards import stale_assets, write_assets

    try:
        if check:
            stale = stale_assets()
            for rel in stale:
                typer.echo(f"out of step: {rel} (run `edp superset assets`)", err=True)
            raise typer.Exit(1 if stale else 0)
        _emit(write_assets(), fmt)
    except SupersetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@superset_app.command("stop")
def superset_stop() -> None:
    """Stop the Superset started by provision."""
    from edp.serve.superset import stop_server

    stop_server(get_settings())


@superset_app.command("screenshots")
def superset_screenshots(
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory for the PNGs (default $EDP_HOME/screenshots).")
    ] = None,
) -> None:
    """Render every dashboard in headless Chromium as the admin (看板截图).

    Exit 1 if a chart shows an error, or shows no data although its query returns rows.
    """
    from edp.serve.superset import SupersetError
    from edp.serve.superset.screenshots import render_as_admin, rows_behind_empty_charts

    settings = get_settings()
    try:
        renders = render_as_admin(settings, out)
        behind_empty = rows_behind_empty_charts(settings, renders)
    except SupersetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    failed = False
    for render in renders:
        n = render.counts()
        typer.echo(f"{render.title}\t{render.screenshot}\t{n['ok']} ok / {n['error']} error / {n['empty']} empty")
        for chart in render.charts:
            message = " ".join(chart.message.split())
            if chart.state == "error":
                failed = True
                typer.echo(f"  error: {chart.title}: {message}")
            elif chart.state == "empty" and behind_empty.get(chart.title):
                failed = True
                typer.echo(f"  empty although its query returns {behind_empty[chart.title]} rows: {chart.title}")
            elif chart.state == "empty":
                typer.echo(f"  empty (its query returns no rows): {chart.title}")
    if not renders:
        typer.echo("no dashboards")
    raise typer.Exit(1 if failed or not renders else 0)


@superset_users_app.command("add")
def superset_users_add(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, _ . -).")],
    town: Annotated[
        str | None, typer.Option(help="12-digit division code of a town (镇街): sees only that town's rows.")
    ] = None,
    analyst: Annotated[bool, typer.Option("--analyst", help="Analyst (分析人员): every town.")] = False,
) -> None:
    """Create a Superset user with a generated password (stored in $EDP_HOME/secrets, never printed)."""
    from edp.serve.superset import SupersetError
    from edp.serve.superset.access import add_superset_user

    try:
        result = add_superset_user(get_settings(), username, town=town, analyst=analyst)
    except SupersetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if result["created"]:
        typer.echo(f"created {username} with role {result['role']}; password in {result['password_file']}")
    else:
        typer.echo(
            f"{username} exists already: nothing changed (password, if we made it, in {result['password_file']})"
        )


@docs_app.command("publish")
def docs_publish() -> None:
    """Generate the dbt docs and publish them to the lake (dbt/docs/)."""
    from edp.serve.docs_site import publish_dbt_docs
    from edp.transform.dbt_runner import docs_generate

    settings = get_settings()
    typer.echo(publish_dbt_docs(settings, docs_generate(settings)))


@docs_app.command("serve")
def docs_serve(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 in a container behind a proxy.")] = "127.0.0.1",
) -> None:
    """Serve the Data Docs, dbt docs and quality reports from the lake on http://HOST:PORT/ (loopback unless --host)."""
    from edp.serve.docs_site import serve

    typer.echo(f"serving http://{host}:{port}/ (Ctrl-C to stop)")
    serve(get_settings(), port, host=host)


@app.command(
    "airflow",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
)
def airflow(ctx: typer.Context) -> None:
    """The `airflow` CLI with the platform's configuration (Airflow 命令行): `edp airflow dags list`.

    The same airflow.cfg as the demo and the services ($EDP_HOME/airflow): DAGs folder, metadata
    database, time zone. `AIRFLOW_HOME=$EDP_HOME/airflow airflow …` sees the same.
    """
    from edp.orchestration.airflow_run import airflow_cli

    raise typer.Exit(airflow_cli(get_settings(), list(ctx.args)))


@app.command("warehouse-stop")
def warehouse_stop() -> None:
    """Stop the embedded PostgreSQL (no effect when EDP_WAREHOUSE_URL is set)."""
    from edp.storage.warehouse import is_embedded, stop_embedded

    settings = get_settings()
    typer.echo("stopped" if is_embedded(settings) and stop_embedded(settings) else "no embedded warehouse running")


@app.command("status")
def status(fmt: FormatOption = None) -> None:
    """Services' health, row counts per layer, quarantine, quality and sync at a glance."""
    from edp.orchestration.services import services_status
    from edp.orchestration.summary import collect

    settings = get_settings()
    _emit({"services": services_status(settings), **collect(settings)}, fmt)


@app.command("up")
def up(
    no_superset: Annotated[bool, typer.Option("--no-superset", help="Do not start Superset.")] = False,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Celery workers to start (EDP_AIRFLOW_EXECUTOR=celery).")
    ] = None,
) -> None:
    """Start the platform's services (平台服务): Airflow, docs, Superset, the sandbox; safe to run twice."""
    from edp.errors import EdpError
    from edp.orchestration.services import up as start

    settings = get_settings()
    try:
        result = start(settings, superset=not no_superset, workers=workers, echo=typer.echo)
    except EdpError as exc:
        # What this run had started is stopped already; one line says which service and why.
        typer.echo(f"edp up failed: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    for name, url in result.urls.items():
        typer.echo(f"{name:16} {url}")
    for name, where in result.credentials.items():
        typer.echo(f"{name + ' login':16} {where}")
    typer.echo(
        f"started: {', '.join(result.started) or 'nothing (all running)'}"
        f"{'; already running: ' + ', '.join(result.already_running) if result.already_running else ''}"
        f" ({result.seconds:.0f} s)"
    )


@app.command("down")
def down(
    keep_warehouse: Annotated[
        bool, typer.Option("--keep-warehouse", help="Leave the embedded PostgreSQL running.")
    ] = False,
) -> None:
    """Stop every service `edp up` started for this EDP_HOME (and the embedded PostgreSQL)."""
    from edp.orchestration.services import down as stop

    stopped = stop(get_settings(), keep_warehouse=keep_warehouse)
    typer.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.command("worker")
def worker(
    queues: Annotated[
        str | None, typer.Option(help="Comma-separated Celery queues (default: every department's and default).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Tasks at once.")] = 4,
    name: Annotated[
        str | None,
        typer.Option(help="Celery node name, e.g. worker3@%h (each worker of one host needs its own)."),
    ] = None,
) -> None:
    """Run one Celery worker in the foreground (EDP_AIRFLOW_EXECUTOR=celery): `airflow celery worker`.

    It serves its task logs on Airflow's worker log port, for the UI on another host.
    """
    from edp.errors import EdpError
    from edp.orchestration.airflow_run import airflow_cli
    from edp.orchestration.services import QUEUES, check_broker, worker_argv

    settings = get_settings()
    if settings.airflow_executor != "celery":
        typer.echo("edp worker: needs EDP_AIRFLOW_EXECUTOR=celery (the LocalExecutor runs tasks itself)", err=True)
        raise typer.Exit(2)
    try:
        check_broker(settings)
    except EdpError as exc:
        typer.echo(f"edp worker: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    chosen = tuple(q.strip() for q in queues.split(",")) if queues else QUEUES
    raise typer.Exit(airflow_cli(settings, worker_argv(settings, chosen, concurrency, node=name)[1:]))


@app.command("demo")
def demo(
    skip_superset: Annotated[bool, typer.Option(help="Do not start Superset.")] = False,
) -> None:
    """Run the whole pipeline through the Airflow DAGs on embedded defaults and print a summary."""
    from edp.orchestration.demo import run_demo

    run_demo(get_settings(), superset=not skip_superset)


# -- reports for auditors (appended as one block: the sub-app, its registration, its command) ------------------
report_app = typer.Typer(help="Reports for auditors (审计报告).", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("quality")
def report_quality(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (Asia/Shanghai).")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).")],
    out: Annotated[str | None, typer.Option(help="Local folder (default $EDP_HOME/reports/quality).")] = None,
    fmt: FormatOption = None,
) -> None:
    """The data-quality report (HTML and JSON): written locally and to the lake quality/reports/."""
    from pathlib import Path

    from edp.cli_errors import parse_day
    from edp.quality.report import write_report

    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    _emit(write_report(get_settings(), first, last, Path(out) if out else None).as_dict(), fmt)


# -- alerts (appended as one block: the sub-app, its registration, its commands) ------------------------------
alerts_app = typer.Typer(
    help="Alerts (告警): failed tasks, quality blocks, unavailable sources; grouped, sent to the webhook and e-mail.",
    invoke_without_command=True,
)
app.add_typer(alerts_app, name="alerts")


@alerts_app.callback()
def alerts_list(
    ctx: typer.Context,
    include_resolved: Annotated[
        bool, typer.Option("--all", help="Also the alerts resolved in the last --days days (含已解除).")
    ] = False,
    days: Annotated[int, typer.Option(min=1, help="With --all: how far back resolved alerts are shown.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of text lines (as --format json).")] = False,
    fmt: FormatOption = None,
) -> None:
    """List the open alerts (未解除的告警): since, last seen, ×occurrences, kind, dag/task, dataset, reason."""
    if ctx.invoked_subcommand is not None:
        return
    from edp.alerts import open_alerts, recent_alerts
    from edp.alerts.cli_text import alert_lines

    settings = get_settings()
    alerts = recent_alerts(settings, days) if include_resolved else open_alerts(settings)
    from edp.cli_output import resolve

    if as_json or resolve(fmt) is OutputFormat.json:
        _emit([a.as_dict() for a in alerts], OutputFormat.json)
        return
    # The table: aligned text lines, CJK-width aware (edp.alerts.cli_text).
    for line in alert_lines(alerts, include_resolved=include_resolved, days=days):
        typer.echo(line)


@alerts_app.command("resolve")
def alerts_resolve(
    alert_id: Annotated[int, typer.Argument(help="The alert's id (first column of `edp alerts`).")],
) -> None:
    """Resolve an open alert by hand (手动解除) once its cause is fixed; the channels are told."""
    from edp.alerts import resolve_alerts

    resolved = resolve_alerts(get_settings(), alert_id=alert_id)
    if not resolved:
        typer.echo(f"no open alert {alert_id} (无此未解除告警)", err=True)
        raise typer.Exit(1)
    typer.echo(f"resolved alert {alert_id} (已解除): {resolved[0].kind} {resolved[0].key}")


# -- the warehouse schema (appended as one block) --------------------------------------------------------------
@app.command("migrate")
def migrate() -> None:
    """Bring the warehouse schema (ops, audit, sync) to this release's version (数据库迁移); safe to run twice."""
    from edp.errors import EdpError
    from edp.storage.migrate import applied
    from edp.storage.migrate import migrate as run
    from edp.storage.warehouse import engine

    settings = get_settings()
    try:
        done = run(settings)
    except EdpError as exc:
        typer.echo(f"edp migrate: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    for m in done:
        typer.echo(f"applied {m.version:04d} {m.name}")
    history = applied(engine(settings))
    current = history[-1].version if history else 0
    typer.echo(f"warehouse schema at version {current}" + ("" if done else " (nothing to apply)"))


# -- backup and restore (appended as one block; logic in edp/storage/backup.py) --------------------------------
backup_app = typer.Typer(
    help="Backup and restore of warehouse, lake and secrets (备份与恢复; docs/runbooks.md).", no_args_is_help=True
)
app.add_typer(backup_app, name="backup")


@backup_app.command("create")
def backup_create(
    folder: Annotated[Path, typer.Argument(help="A new or empty folder; it gets mode 0700.")],
) -> None:
    """Back up the warehouse (pg_dump, every schema), every lake object and the generated secrets, with a
    SHA-256 manifest. The backup holds the platform's keys: keep it as safe as they are."""
    from edp.storage.backup import create_backup

    result = create_backup(get_settings(), folder)
    _echo(result.as_dict())


@backup_app.command("restore")
def backup_restore(
    folder: Annotated[Path, typer.Argument(help="A folder made by `edp backup create`.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a warehouse, lake or secrets that hold data (stop the platform first)."),
    ] = False,
) -> None:
    """Check the backup's checksums, then restore the warehouse into a fresh database swapped in by rename,
    the lake (objects not in the backup are deleted) and the secrets. Refuses a target holding data without --force."""
    from edp.storage.backup import restore_backup

    result = restore_backup(get_settings(), folder, force=force)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    _echo(result.as_dict())
