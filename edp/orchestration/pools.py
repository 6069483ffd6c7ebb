"""Airflow pools: one per source, so a department's rate limit holds however many workers run.

The ingest DAG of source ``X`` runs its tasks in pool ``source_X``; the pool's
slots are the tasks of that source Airflow runs at once across every worker
(``options.pool_slots`` in ``sources.yml``, else 1). Imported by the DAG
factory, so nothing heavy here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.registry import SOURCES

if TYPE_CHECKING:
    from edp.settings import Settings

DEFAULT_SLOTS = 1
# The syncs to 鞍山市 (the everyday sync_anshan and the warning lane's): one at a time, as two at once
# contend for the same outbox and quality-status rows and one of them fails with a deadlock.
EXCHANGE_POOL = "exchange_sync"


def source_pool(source: str) -> str:
    return f"source_{source}"


def source_pools(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every source's pool (each has a DAG, configured or not), in the shape of ``airflow pools import``."""
    configured = settings.sources()
    pools: dict[str, dict[str, Any]] = {}
    for name in SOURCES:
        cfg = configured.get(name)
        slots = int(cfg.options.get("pool_slots", DEFAULT_SLOTS)) if cfg else DEFAULT_SLOTS
        if slots < 1:
            from edp.errors import ConfigError

            raise ConfigError(f"{settings.sources_file}: {name}.options.pool_slots must be at least 1, not {slots}")
        title = cfg.title if cfg and cfg.title else name
        pools[source_pool(name)] = {
            "slots": slots,
            "description": f"{title}: ingest tasks at once, across all workers (sources.yml options.pool_slots)",
            "include_deferred": False,
        }
    return pools


def platform_pools(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every pool the DAGs name: one per source and the exchange's, in the shape of ``airflow pools import``."""
    return {
        **source_pools(settings),
        EXCHANGE_POOL: {
            "slots": 1,
            "description": "鞍山市数据交换: syncs at once (sync_anshan and the warning lane), one",
            "include_deferred": False,
        },
    }
