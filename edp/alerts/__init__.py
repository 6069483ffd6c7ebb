"""Alerts (告警): what went wrong, grouped, kept in ``ops.alerts`` and sent to the configured channels.

- :mod:`edp.alerts.store`: the table and its statements (grouping by key, race-safe);
- :mod:`edp.alerts.channels`: webhook (JSON) and e-mail (plain text, 中文 and English);
- :mod:`edp.alerts.alerting`: :func:`raise_alert`, :func:`resolve_alerts`, :func:`open_alerts`,
  :func:`recent_alerts` (record, then notify when due; a channel failing never fails the caller);
- :mod:`edp.alerts.hooks`: what Airflow's task callbacks and the quality gate raise and resolve;
- :mod:`edp.alerts.text`: one-line reasons without secrets or personal values.
"""

from __future__ import annotations

from edp.alerts.alerting import open_alerts, raise_alert, recent_alerts, resolve_alerts
from edp.alerts.store import Alert

__all__ = ["Alert", "open_alerts", "raise_alert", "recent_alerts", "resolve_alerts"]
