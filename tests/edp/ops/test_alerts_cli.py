"""`edp alerts`: list open alerts (text or JSON), with --all the resolved ones, resolve one by hand."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from edp.alerts import raise_alert
from edp.cli import app
from edp.settings import Settings

pytestmark = pytest.mark.integration


def test_edp_alerts_lists_and_resolves(settings: Settings) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["alerts", "--format", "table"]).output.strip() == "no open alerts (无未解除的告警)"

    alert = raise_alert(settings, kind="task_failed", key="task:water/load", reason="DataRejected: page 3 refused",
                        dag_id="water", task_id="load", dataset="water")  # fmt: skip
    raise_alert(settings, kind="task_failed", key="task:water/load", reason="DataRejected: page 3 refused")

    listed = runner.invoke(app, ["alerts", "--format", "table"])
    assert listed.exit_code == 0, listed.output
    header, line = listed.output.splitlines()
    assert header.split()[:4] == ["id", "since", "首次", "last"]
    assert line.split()[0] == str(alert.id) and "×2" in line.split()
    assert line.split()[-7:] == ["task_failed", "water/load", "water", "DataRejected:", "page", "3", "refused"]

    as_json = runner.invoke(app, ["alerts", "--json"])
    (entry,) = json.loads(as_json.output)
    assert (entry["id"], entry["occurrences"], entry["resolved_at"]) == (alert.id, 2, None)
    assert entry["kind"] == "task_failed" and entry["first_seen_at"].endswith("+08:00")

    resolved = runner.invoke(app, ["alerts", "resolve", str(alert.id)])
    assert resolved.exit_code == 0 and f"resolved alert {alert.id}" in resolved.output
    assert runner.invoke(app, ["alerts", "resolve", str(alert.id)]).exit_code == 1
    assert runner.invoke(app, ["alerts", "--format", "table"]).output.strip() == "no open alerts (无未解除的告警)"

    everything = runner.invoke(app, ["alerts", "--all", "--days", "1", "--format", "table"])
    assert everything.exit_code == 0
    _, line = everything.output.splitlines()
    assert line.split()[0] == str(alert.id) and "open" not in line and line.endswith("DataRejected: page 3 refused")
    assert "--all" in runner.invoke(app, ["alerts", "--help"]).output
