"""Proving the exchange: reconciliation (对账) with the city and its feedback (疑义数据).

Reconciliation compares, per dataset and Asia/Shanghai day, the city's
answer (batches, records, XOR of the batches' ``records_sha256``) with the
local ledger of acknowledged batches. A batch's day is the day it was first
sent: the city stores it on arrival, so a reply lost and found later by a
lookup still belongs to the day of the first send.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from edp.exchange.city_client import ExchangeClient, exchange_config
from edp.exchange.sync import EXCHANGED
from edp.settings import Settings
from edp.storage.migrate import require_current
from edp.storage.warehouse import engine

log = logging.getLogger(__name__)


def xor_hex(values: list[str]) -> str:
    acc = 0
    for value in values:
        acc ^= int(value, 16)
    return f"{acc:064x}"


def local_ledger(settings: Settings, dataset: str, day: date) -> dict[str, Any]:
    with engine(settings).connect() as conn:
        rows = conn.execute(
            sa.text(
                "select records_sha256, record_count from sync.batches where dataset=:d and status='acked' "
                "and (first_sent_at at time zone 'Asia/Shanghai')::date = :day"
            ),
            {"d": dataset, "day": day},
        ).all()
    return {
        "dataset": dataset,
        "date": day.isoformat(),
        "batches": len(rows),
        "records": sum(int(r.record_count) for r in rows),
        "records_sha256_xor": xor_hex([r.records_sha256 for r in rows]),
    }


def reconcile(settings: Settings, day: date, datasets: list[str] | None = None) -> list[dict[str, Any]]:
    """One line per dataset: the city's figures, ours, and whether they agree."""
    require_current(settings)
    client = ExchangeClient(exchange_config(settings))
    out = []
    try:
        for name in datasets or list(EXCHANGED):
            city = client.reconciliation(name, day.isoformat())
            ours = local_ledger(settings, name, day)
            differences = [
                f"{field}: city {city.get(field)} / local {ours[field]}"
                for field in ("batches", "records", "records_sha256_xor")
                if str(city.get(field)) != str(ours[field])
            ]
            out.append(
                {
                    "dataset": name,
                    "date": day.isoformat(),
                    "city": city,
                    "local": ours,
                    "agrees": not differences,
                    "differences": differences,
                }
            )
    finally:
        client.close()
    return out


def pull_feedback(settings: Settings) -> dict[str, Any]:
    """Record the city's doubted records; mark those answered by a later version."""
    require_current(settings)
    with engine(settings).connect() as conn:
        since = conn.execute(sa.text("select max(raised_at) from sync.feedback")).scalar()
    since_text = (since or datetime(2000, 1, 1, tzinfo=UTC)).isoformat()
    client = ExchangeClient(exchange_config(settings))
    try:
        items = client.feedback(since_text)
    finally:
        client.close()
    with engine(settings).begin() as conn:
        for item in items:
            conn.execute(
                sa.text(
                    "insert into sync.feedback (feedback_id, dataset, record_id, reason, raised_at, doubted_version) "
                    "select :feedback_id, :dataset, :record_id, :reason, :raised_at, "
                    "(select max(version) from sync.outbox where dataset=:dataset and record_id=:record_id) "
                    "on conflict (feedback_id) do nothing"
                ),
                item,
            )
        # A later version than the doubted one, accepted by the city, is the county's answer.
        conn.execute(
            sa.text(
                """
                update sync.feedback f set answered_version = o.version, answered_at = o.created_at
                from sync.outbox o
                where f.answered_version is null and o.dataset = f.dataset and o.record_id = f.record_id
                  and o.version > coalesce(f.doubted_version, 0) and o.status = 'accepted'
                """
            )
        )
        open_items = conn.execute(
            sa.text(
                "select dataset, record_id, reason, raised_at from sync.feedback "
                "where answered_version is null order by raised_at"
            )
        ).all()
    return {"pulled": len(items), "open": [dict(r._mapping) for r in open_items]}
