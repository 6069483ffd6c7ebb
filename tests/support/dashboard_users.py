"""Every dashboard as an analyst and as a town officer see it, on a warehouse with every mart built.

Called from the demo test (the one run that has the marts and a provisioned Superset).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edp.serve.superset import access
from tests.support.superset_access import dashboards_as

EVENTS_BY_TOWN = "各镇街事件 Events by town"
EVENTS_TOTAL = "事件数 Events"
MAP = "风险隐患一张图 Risk map of 海城市"


def _password(home: Path, username: str) -> str:
    return (home / "secrets" / access.user_secret(username)).read_text(encoding="utf-8").strip()


def _towns_in(rows: list[dict[str, Any]]) -> set[str]:
    return {str(row[col]) for row in rows for col in ("division_name", "division_code") if row.get(col) is not None}


def assert_analyst_and_town_officer_views(
    home: Path, url: str, add_user: Callable[..., subprocess.CompletedProcess[str]], dashboard_count: int
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Users made through ``edp superset users add``; every chart of every dashboard answers for both.

    Returns ``{"analyst": {chart: rows}, "town": {chart: rows}}``.
    """
    made = add_user("demo_analyst", "--analyst")
    assert made.returncode == 0, made.stderr
    analyst = dashboards_as(url, "demo_analyst", _password(home, "demo_analyst"))
    assert len(analyst) >= dashboard_count * 3, sorted(analyst)

    # The town officer of the town with the most events: their share is visible, and smaller than the whole.
    by_town = analyst[EVENTS_BY_TOWN]
    counts: dict[str, int] = {}
    for row in by_town:
        counts[row["division_name"]] = counts.get(row["division_name"], 0) + int(row["count"])
    name = max(counts, key=lambda n: counts[n])
    town = next(t for t in access.towns() if t.name == name)
    made = add_user("demo_town", "--town", town.code)
    assert made.returncode == 0, made.stderr
    officer = dashboards_as(url, "demo_town", _password(home, "demo_town"))

    assert officer.keys() == analyst.keys()
    for chart, rows in officer.items():
        assert _towns_in(rows) <= {town.name, town.code}, (chart, _towns_in(rows) - {town.name, town.code})
    # Row-level security, not an empty answer: the officer's totals are their town's share of the analyst's.
    assert officer[EVENTS_TOTAL] == [{"count": counts[name]}]
    assert analyst[EVENTS_TOTAL][0]["count"] > counts[name] > 0
    assert _towns_in(analyst[MAP]) > {town.name}
    assert officer[MAP] and {row["division_name"] for row in officer[MAP]} == {town.name}
    return {"analyst": analyst, "town": officer}
