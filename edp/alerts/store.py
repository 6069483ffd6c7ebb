"""Table ``ops.alerts``: one row per occurrence of a problem, grouped by key while it is open.

An alert is *open* until it is resolved. A partial unique index on ``key``
over the open rows makes "insert, or count one more occurrence of the open
alert with this key" a single ``INSERT … ON CONFLICT`` statement, safe when
the CLI and several Airflow tasks raise the same alert at once. A resolved
alert is history: raising its key again opens a new row. The table is made
by the migrations (``edp/storage/migrations/0009_ops_alerts.sql``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from edp.settings import Settings
from edp.storage.warehouse import engine

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
KINDS = ("task_failed", "quality_blocked", "quality_held", "source_unavailable", "receipt_invalid")


@dataclass(frozen=True)
class Alert:
    id: int
    key: str
    kind: str
    reason: str
    first_seen_at: datetime
    last_seen_at: datetime
    occurrences: int
    dag_id: str | None = None
    task_id: str | None = None
    dataset: str | None = None
    notified_at: datetime | None = None
    resolved_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)
    last_delivery_error: str | None = None

    @classmethod
    def from_row(cls, row: RowMapping) -> Alert:
        return cls(**{name: row[name] for name in _COLUMNS if name in row})

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def where(self) -> str:
        """``dag/task`` (or the one of them that is known, or ``-``)."""
        return "/".join(p for p in (self.dag_id, self.task_id) if p) or "-"

    def as_dict(self) -> dict[str, Any]:
        """JSON-able fields, times as ISO 8601 in Asia/Shanghai."""
        return {
            "id": self.id,
            "key": self.key,
            "kind": self.kind,
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "dataset": self.dataset,
            "reason": self.reason,
            "first_seen_at": iso(self.first_seen_at),
            "last_seen_at": iso(self.last_seen_at),
            "occurrences": self.occurrences,
            "notified_at": iso(self.notified_at),
            "resolved_at": iso(self.resolved_at),
            "details": self.details,
            "last_delivery_error": self.last_delivery_error,
        }


_COLUMNS = tuple(Alert.__dataclass_fields__)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat() if moment else None


_UPSERT = sa.text(
    """
    insert into ops.alerts as a (key, kind, dag_id, task_id, dataset, reason, details)
    values (:key, :kind, :dag_id, :task_id, :dataset, :reason, cast(:details as jsonb))
    on conflict (key) where resolved_at is null do update set
        kind = excluded.kind,
        reason = excluded.reason,
        dag_id = coalesce(excluded.dag_id, a.dag_id),
        task_id = coalesce(excluded.task_id, a.task_id),
        dataset = coalesce(excluded.dataset, a.dataset),
        details = a.details || excluded.details,
        last_seen_at = now(),
        occurrences = a.occurrences + 1
    returning a.*, now() as db_now
    """
)


@dataclass(frozen=True)
class Raised:
    """The alert after ``upsert``; ``previous_notified_at`` is set when this call claimed a notification."""

    alert: Alert
    notify: bool
    previous_notified_at: datetime | None = None


def upsert(conn: Connection, values: dict[str, Any], *, repeat: timedelta, claim: bool) -> Raised:
    """Open the alert or count one more occurrence; with ``claim``, take the notification when it is due.

    Due: never notified yet, or last notified at least ``repeat`` ago. The claim sets ``notified_at``
    in the same transaction as the upsert: the row stays locked until commit, so of concurrent raisers
    exactly one sees it due.
    """
    row = conn.execute(_UPSERT, {**values, "details": json.dumps(values.get("details") or {}, default=str)})
    found = row.mappings().one()
    alert, now = Alert.from_row(found), found["db_now"]
    due = alert.notified_at is None or alert.notified_at <= now - repeat
    if not (claim and due):
        return Raised(alert, notify=False)
    conn.execute(sa.text("update ops.alerts set notified_at = :now where id = :id"), {"now": now, "id": alert.id})
    return Raised(replace(alert, notified_at=now), notify=True, previous_notified_at=alert.notified_at)


def delivered(settings: Settings, alert: Alert, error: str | None, *, release_to: datetime | None = None) -> None:
    """Record a delivery: on failure the error, and (for a claimed notification) ``notified_at`` given back.

    Giving it back (``release_to``, the value before the claim) makes the next raise send the alert
    again. Only a claim still standing is given back, never a later one.
    """
    with engine(settings).begin() as c:
        if error is None:
            c.execute(sa.text("update ops.alerts set last_delivery_error = null where id = :id"), {"id": alert.id})
            return
        c.execute(
            sa.text(
                "update ops.alerts set last_delivery_error = :e, "
                "notified_at = case when cast(:release as boolean) and notified_at = :claimed "
                "then cast(:back as timestamptz) else notified_at end "
                "where id = :id"
            ),
            {
                "e": error,
                "release": alert.resolved_at is None,
                "claimed": alert.notified_at,
                "back": release_to,
                "id": alert.id,
            },
        )


def resolve(
    settings: Settings,
    *,
    alert_id: int | None = None,
    key: str | None = None,
    kind: str | None = None,
    dag_id: str | None = None,
    task_id: str | None = None,
    dataset: str | None = None,
) -> list[Alert]:
    """Close the open alerts matching every given filter; the closed ones (each returned to one caller only)."""
    filters = {"id": alert_id, "key": key, "kind": kind, "dag_id": dag_id, "task_id": task_id, "dataset": dataset}
    given = {name: value for name, value in filters.items() if value is not None}
    if not given:
        raise ValueError("resolve_alerts needs at least one filter (id, key, kind, dag_id, task_id or dataset)")
    where = " and ".join(f"{name} = :{name}" for name in given)
    with engine(settings).begin() as c:
        rows = c.execute(
            sa.text(f"update ops.alerts set resolved_at = now() where resolved_at is null and {where} returning *"),
            given,
        )
        return [Alert.from_row(r) for r in rows.mappings()]


def mark_notified(settings: Settings, alert: Alert) -> Alert:
    with engine(settings).begin() as c:
        when: datetime = c.execute(
            sa.text(
                "update ops.alerts set notified_at = now(), last_delivery_error = null where id = :id returning now()"
            ),
            {"id": alert.id},
        ).scalar_one()
    return replace(alert, notified_at=when, last_delivery_error=None)


def select_open(settings: Settings) -> list[Alert]:
    with engine(settings).connect() as c:
        rows = c.execute(sa.text("select * from ops.alerts where resolved_at is null order by last_seen_at desc, id"))
        return [Alert.from_row(r) for r in rows.mappings()]


def select_recent(settings: Settings, days: float) -> list[Alert]:
    """Open alerts, then those resolved in the last ``days`` days (latest first)."""
    with engine(settings).connect() as c:
        rows = c.execute(
            sa.text(
                "select * from ops.alerts where resolved_at is null "
                "or resolved_at >= now() - make_interval(secs => :secs) "
                "order by resolved_at is not null, coalesce(resolved_at, last_seen_at) desc, id desc"
            ),
            {"secs": days * 86400},
        )
        return [Alert.from_row(r) for r in rows.mappings()]
