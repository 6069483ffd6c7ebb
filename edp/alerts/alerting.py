"""Raise, resolve and list alerts: record first, then notify when due.

Grouping: an alert is identified by its ``key`` while open. Raising it again
counts one more occurrence (``occurrences``, ``last_seen_at``) and sends
nothing, unless the last notification is older than ``EDP_ALERT_REPEAT_HOURS``
(then a reminder goes out). Resolving it sends a resolution.

Delivery never fails the caller: a channel that does not take the alert is
logged and written to the row (``last_delivery_error``); a raise that was
not delivered leaves ``notified_at`` as it was, so the next raise sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from edp.alerts import channels as alert_channels
from edp.alerts import store
from edp.alerts.store import Alert
from edp.alerts.text import one_line
from edp.settings import Settings
from edp.storage.migrate import require_current
from edp.storage.warehouse import engine

log = logging.getLogger(__name__)


def raise_alert(
    settings: Settings,
    *,
    kind: str,
    key: str,
    reason: str,
    dag_id: str | None = None,
    task_id: str | None = None,
    dataset: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Alert:
    """Open the alert ``key``, or count one more occurrence of the open one; notify when new or due again.

    ``reason`` is kept to one line without secrets or personal values (``edp.alerts.text``).
    """
    require_current(settings)
    channels = alert_channels.configured(settings)
    values = {
        "key": key,
        "kind": kind,
        "dag_id": dag_id,
        "task_id": task_id,
        "dataset": dataset,
        "reason": one_line(reason) or kind,
        "details": dict(details or {}),
    }
    with engine(settings).begin() as c:
        raised = store.upsert(c, values, repeat=timedelta(hours=settings.alert_repeat_hours), claim=bool(channels))
    alert = raised.alert
    log.warning("alert %s %s %s: %s (×%d)", alert.id, alert.kind, alert.key, alert.reason, alert.occurrences)
    if not raised.notify:
        return alert
    event: alert_channels.Event = "raised" if raised.previous_notified_at is None else "reminder"
    error = alert_channels.deliver(channels, event, alert)
    store.delivered(settings, alert, error, release_to=raised.previous_notified_at)
    if error is None:
        return alert
    return replace(alert, notified_at=raised.previous_notified_at, last_delivery_error=error)


def resolve_alerts(
    settings: Settings,
    *,
    key: str | None = None,
    dag_id: str | None = None,
    task_id: str | None = None,
    dataset: str | None = None,
    kind: str | None = None,
    alert_id: int | None = None,
) -> list[Alert]:
    """Close the open alerts matching every given filter (at least one) and notify each resolution."""
    require_current(settings)
    resolved = store.resolve(
        settings, alert_id=alert_id, key=key, kind=kind, dag_id=dag_id, task_id=task_id, dataset=dataset
    )
    channels = alert_channels.configured(settings)
    result: list[Alert] = []
    for alert in resolved:
        log.info("alert %s %s %s resolved", alert.id, alert.kind, alert.key)
        if not channels:
            result.append(alert)
            continue
        error = alert_channels.deliver(channels, "resolved", alert)
        if error is None:
            result.append(store.mark_notified(settings, alert))
        else:
            store.delivered(settings, alert, error)
            result.append(replace(alert, last_delivery_error=error))
    return result


def open_alerts(settings: Settings) -> list[Alert]:
    """Every open alert, last seen first."""
    require_current(settings)
    return store.select_open(settings)


def recent_alerts(settings: Settings, days: float = 7) -> list[Alert]:
    """Open alerts, then the alerts resolved in the last ``days`` days."""
    require_current(settings)
    return store.select_recent(settings, days)
