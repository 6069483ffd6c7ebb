"""`edp demo` / `make demo`: the whole pipeline on embedded defaults, through Airflow."""

from __future__ import annotations

import json
import time
from typing import Any

import typer

from edp.orchestration.airflow_run import pipeline_dags, run_pipeline
from edp.orchestration.summary import collect
from edp.sandbox.control import sandbox_up
from edp.settings import Settings
from edp.storage.lake import open_lake


def run_demo(settings: Settings, superset: bool = True) -> dict[str, Any]:
    started = time.monotonic()
    typer.echo("1/4 sandbox: starting the stand-ins of the sources configured as `sandbox` and the 鞍山市 exchange")
    info = sandbox_up(settings)
    typer.echo(
        "    " + "  ".join(f"{key.removesuffix('_url')} {url}" for key, url in info.items() if key.endswith("_url"))
    )
    typer.echo(f"2/4 airflow: running DAGs {' → '.join(pipeline_dags(settings))} (airflow dags test)")
    run_pipeline(settings)
    dashboards: dict[str, Any] = {}
    if superset:
        typer.echo("3/4 superset: provisioning the read-only connection and dashboards")
        from edp.serve.superset import provision

        dashboards = provision(settings)
    else:
        typer.echo("3/4 superset: skipped")
    typer.echo("4/4 summary")
    figures = collect(settings)
    lake = open_lake(settings)
    figures["data_docs"] = f"{lake.uri}/quality/docs/index.html"
    figures["superset"] = dashboards
    figures["seconds"] = round(time.monotonic() - started, 1)
    text = json.dumps(figures, ensure_ascii=False, indent=2, default=str)
    (settings.home_dir / "demo-summary.json").write_text(text, encoding="utf-8")
    typer.echo(text)
    return figures
