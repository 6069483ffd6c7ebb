"""The one-minute lane for warnings (预警快速通道): CAP warnings to the city within a minute.

The everyday chain (hourly ingest → whole dbt build → every check → every
dataset's sync) takes minutes; a red warning must not wait for it. The lane
does the same steps over the warnings only: the `warnings` dataset of the
weather source, the dbt models between its staging model and `fct_warning`
with their tests, the two suites that gate the `warnings` exchange dataset,
and the sync of that dataset (only rows that changed are sent: the outbox
diff). Every step is the library function the everyday chain uses.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from edp.settings import Settings

SOURCE = "weather"
DATASET = "warnings"
# The models the warnings mart needs, from the raw warnings on: not the seeds and marts of the others.
DBT_SELECT = "stg_weather__warnings+,+fct_warning"
# Before the first everyday build the reference seeds and upstream models are missing: build them all once.
DBT_SELECT_FIRST = "+fct_warning"
# The lane's own dbt workspace (target/, logs/, lock): it never waits for the everyday build, which may
# hold the platform's dbt lock for minutes. Both build DBT_SELECT's models; each model takes a lock of
# its own in the warehouse while it is built (dbt/macros/lane_lock.sql).
DBT_WORKSPACE = "lane"
SUITES = ("raw.weather__warnings", "marts.fct_warning")
EXCHANGE_DATASET = "warnings"


def ingest_warnings(settings: Settings) -> dict[str, Any]:
    from edp.ingest.extract import extract
    from edp.ingest.loader import load_pending

    began = time.monotonic()
    manifests = extract(settings, SOURCE, datasets=[DATASET], until=datetime.now(UTC))
    loaded = load_pending(settings, SOURCE)
    return {
        "batches": [m.batch_id for m in manifests],
        "rows": sum(m.row_count for m in manifests),
        "loaded": len(loaded),
        "seconds": round(time.monotonic() - began, 2),
    }


def build_and_check_warnings(settings: Settings) -> dict[str, Any]:
    from edp.quality.runner import run_checks
    from edp.transform.dbt_runner import build

    began = time.monotonic()
    if _mart_exists(settings):
        result = build(settings, DBT_SELECT, workspace=DBT_WORKSPACE)
    else:
        # The seeds and upstream models too: with the everyday build's lock, as they have no lock of their own.
        result = build(settings, DBT_SELECT_FIRST)
    built = time.monotonic()
    run = run_checks(settings, list(SUITES))
    return {
        "dbt_success": result.success,
        "nodes": len(result.nodes),
        "check_success": run.success,
        "dbt_seconds": round(built - began, 2),
        "check_seconds": round(time.monotonic() - built, 2),
    }


def sync_warnings(settings: Settings) -> dict[str, Any]:
    from edp.exchange.sync import sync

    began = time.monotonic()
    [result] = sync(settings, [EXCHANGE_DATASET])
    return {
        "blocked": result.blocked,
        "diff": result.diff,
        "sent": result.sent,
        "seconds": round(time.monotonic() - began, 2),
    }


def _mart_exists(settings: Settings) -> bool:
    import sqlalchemy as sa

    from edp.storage.warehouse import engine

    with engine(settings).connect() as c:
        return c.execute(sa.text("select to_regclass('marts.fct_warning') is not null")).scalar_one()
