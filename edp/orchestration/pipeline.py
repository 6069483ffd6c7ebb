"""The pipeline's steps as plain functions: the CLI and the Airflow DAGs call these.

Each step takes the settings and returns a small JSON-able summary, so a DAG
task is one line and the same code path runs in tests, the demo and production.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edp.settings import Settings, get_settings


def _s(settings: Settings | None) -> Settings:
    return settings or get_settings()


def ingest(source: str, settings: Settings | None = None, until: datetime | None = None) -> dict[str, Any]:
    """Extract ``source`` into the lake, then load every pending batch of it."""
    from edp.ingest.extract import DatasetErrors, extract
    from edp.ingest.loader import load_pending

    s = _s(settings)
    try:
        manifests = extract(s, source, until=until)
    except DatasetErrors:
        # What was extracted is loaded before the failure is reported.
        load_pending(s, source)
        raise
    loaded = load_pending(s, source)
    return {
        "source": source,
        "batches": [m.batch_id for m in manifests],
        "rows": sum(m.row_count for m in manifests),
        "quarantined": sum(m.quarantined_count for m in manifests),
        "loaded": len(loaded),
    }


def load(source: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    from edp.ingest.loader import load_pending

    loaded = load_pending(_s(settings), source)
    return {"loaded": len(loaded), "rows": sum(r["rows"] for r in loaded)}


def prepare_transform(settings: Settings | None = None) -> dict[str, Any]:
    """What dbt needs before it runs: every table the dbt sources declare exists (maybe empty).

    A source that has not delivered yet must not stop every mart from building, nor a platform that
    has not checked or synced yet the marts' ``rpt_`` views over ``audit``, ``ops`` and ``sync``.
    """
    from edp.ingest.loader import ensure_declared_raw_tables

    return {"raw_tables": len(ensure_declared_raw_tables(_s(settings)))}


def transform(
    settings: Settings | None = None, select: str | None = None, full_refresh: bool = False
) -> dict[str, Any]:
    from edp.transform.dbt_runner import build

    s = _s(settings)
    prepare_transform(s)
    result = build(s, select, full_refresh=full_refresh)
    return {"success": result.success, "nodes": len(result.nodes)}


def dbt_parse(settings: Settings | None = None) -> dict[str, Any]:
    """``dbt parse``: the manifest the transform DAG renders one task per model from."""
    from edp.transform.dbt_runner import parse

    return {"manifest": str(parse(_s(settings)))}


def publish_docs(settings: Settings | None = None) -> dict[str, Any]:
    """dbt docs generate, published to the lake beside the Data Docs."""
    from edp.serve.docs_site import publish_dbt_docs
    from edp.transform.dbt_runner import docs_generate

    s = _s(settings)
    return {"dbt_docs": publish_dbt_docs(s, docs_generate(s))}


def check(settings: Settings | None = None) -> dict[str, Any]:
    from edp.quality.runner import run_checks

    run = run_checks(_s(settings))
    return {
        "run_id": run.run_id,
        "success": run.success,
        "pass_rate": run.pass_rate,
        "data_docs_uri": run.data_docs_uri,
    }


def quality_report(settings: Settings | None = None, days: int = 7) -> dict[str, Any]:
    """The auditor's report over the last ``days`` days (Asia/Shanghai), as the city receives it."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from edp.quality.report import write_report

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    files = write_report(_s(settings), today - timedelta(days=days - 1), today)
    return {"report_id": files.report_id, "html": files.html_uri, "json": files.json_uri}


def sync(settings: Settings | None = None) -> dict[str, Any]:
    from edp.exchange.sync import sync as do_sync

    results = do_sync(_s(settings))
    return {
        r.dataset: {"blocked": r.blocked, "diff": r.diff, "batches": r.batches_packed, "sent": r.sent} for r in results
    }
