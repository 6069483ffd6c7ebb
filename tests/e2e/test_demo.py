"""`edp demo` end to end on embedded defaults: pgserver, file lake, sandbox, Airflow, Superset."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.dashboard_render import assert_dashboards_render
from tests.support.dashboard_users import assert_analyst_and_town_officer_views

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.airflow, pytest.mark.superset]
REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _edp(home: Path, *args: str, port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDP_")}
    env.update({"EDP_HOME": str(home), "EDP_SUPERSET_PORT": str(port), "XDG_RUNTIME_DIR": str(home / "run")})
    (home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    edp = str(Path(sys.executable).with_name("edp"))
    return subprocess.run([edp, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=1800)


def _pin_department_clocks(home: Path) -> dict[str, str]:
    """Freeze every department stand-in's clock: both runs then see the same source data.

    The clocks stop at the last second of the last whole hour. The weather connector reads whole hours
    only (up to the hour it runs in), while the stand-in shows the hour it is in: frozen in the middle of
    an hour, the first run (before the next hour) would miss that hour and a rerun after it would add it.
    The exchange stand-in keeps the real clock (it checks the timestamps of signed requests).
    """
    info = json.loads((home / "sandbox" / "sandbox.json").read_text(encoding="utf-8"))
    now = (datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(seconds=1)).isoformat()
    pinned: dict[str, str] = {}
    for key, url in info.items():
        if not key.endswith("_url") or key == "anshan_url" or not str(url).startswith("http"):
            continue  # the exchange, and the file and database stand-ins (written once, they do not move)
        with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
            frozen = client.post("/__admin/clock", json={"now": now}).raise_for_status().json()
        assert frozen["frozen"]
        assert datetime.fromisoformat(frozen["now"]) == datetime.fromisoformat(now)
        pinned[key.removesuffix("_url")] = now
    return pinned


def _data_marts(summary: dict) -> dict[str, int]:
    """Rows per mart of the data; not the rpt_ views, which report on the platform's own checks and syncs."""
    return {k: v for k, v in summary["warehouse"]["marts"].items() if not k.startswith("rpt_")}


def _assert_the_dashboards_answer_their_users(home: Path, summary: dict, port: int) -> None:
    """All seven dashboards provisioned; every chart answers the analyst, and a town officer only for their town."""
    provisioned = summary["superset"]
    assert len(provisioned["dashboards"]) == 7, provisioned["dashboards"]
    assert provisioned["dashboard_url"].endswith("/superset/dashboard/haicheng-risk-map/")
    views = assert_analyst_and_town_officer_views(
        home, provisioned["url"], lambda *args: _edp(home, "superset", "users", "add", *args, port=port), 7
    )
    # The marts behind the demo hold events, warnings, sites, waybills, stock and checks: those charts are not empty.
    for chart in (
        "风险隐患一张图 Risk map of 海城市",
        "各镇街每日风险 Daily risk by town",
        "各类别危化品运单 Waybills by UN class",
        "物资缺口（按物资与储备库）Shortfall by material and depot",
        "各维度每日通过率 Daily pass rate per dimension (GB/T 36344)",
        "各数据集交换状态 Exchange status per dataset",
    ):
        assert views["analyst"][chart], chart
    # And as the analyst sees them in a browser: every chart drawn, empty only where the API said no rows.
    empty = {title for title, rows in views["analyst"].items() if not rows}
    password = (home / "secrets" / "superset_user_demo_analyst").read_text(encoding="utf-8").strip()
    renders = assert_dashboards_render(
        provisioned["url"], "demo_analyst", password, home / "screenshots", may_be_empty=empty
    )
    slugs = [d["url"].rstrip("/").rsplit("/", 1)[1] for d in provisioned["dashboards"]]
    assert sorted(r.slug for r in renders) == sorted(slugs)
    # Provisioning again changes nothing and duplicates nothing: the same objects, nothing retired.
    again = _edp(home, "superset", "provision", port=port)
    assert again.returncode == 0, again.stderr[-3000:]
    rerun = json.loads(again.stdout)
    assert rerun["retired"] == []
    for kind in ("dashboards", "charts"):
        assert sorted(map(str, rerun[kind])) == sorted(map(str, provisioned[kind])), kind


# One whole demo run (nine DAGs, dbt, GX, Superset) and a rerun of its stages: past the suite's 900 s on a
# loaded 2-core machine.
@pytest.mark.timeout(2400)
def test_demo_runs_end_to_end_and_reruns_safely(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = _free_port()
    try:
        # The stand-ins first (the demo reuses them), their clocks pinned: a rerun has nothing new to read.
        up = _edp(home, "sandbox", "up", port=port)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert {"weather", "transport", "natural_resources"} <= set(_pin_department_clocks(home))

        first = _edp(home, "demo", port=port)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        assert "RuntimeDirWarning" not in first.stderr, "edp warned about its runtime directory"
        one = json.loads((home / "demo-summary.json").read_text(encoding="utf-8"))
        assert one["warehouse"]["raw"]["weather__observations"] > 1000
        assert one["warehouse"]["marts"]["fct_weather_hourly_extremes"] > 100
        assert one["warehouse"]["marts"]["fct_hazard_event"] > 0
        assert one["sync"]["receipts"] == one["sync"]["batches"] > 0
        assert one["quality"]["pass_rate_last_run"] is not None
        assert one["superset"]["dashboard_url"].startswith("http://127.0.0.1")
        assert (home / "lake" / "quality" / "docs" / "index.html").exists()
        _assert_the_dashboards_answer_their_users(home, one, port)

        # The rerun: the stages the DAGs call, through the CLI as an operator reruns them (a second
        # `edp demo` would add Airflow's nine process starts and Superset, and test nothing more).
        for stage in (("ingest", "--all"), ("transform",), ("check",), ("sync",)):
            rerun = _edp(home, *stage, port=port)
            # `edp check` exits 1 when an expectation fails (the demo data holds planted errors).
            assert rerun.returncode in ((0, 1) if stage == ("check",) else (0,)), stage
            assert "Traceback" not in rerun.stderr, rerun.stderr[-3000:]
        status = _edp(home, "status", port=port)
        assert status.returncode == 0, status.stderr[-3000:]
        two = json.loads(status.stdout)
        # Rerunning on the same source data adds nothing twice: every mart has the same rows (raw may not:
        # snapshot datasets such as the station lists keep each read whole)...
        assert _data_marts(two) == _data_marts(one)
        # ...and nothing new goes to the city but the quality report, re-issued by every run (one new version).
        assert two["sync"]["records_pending"] == 0
        assert two["sync"]["receipts"] == two["sync"]["batches"]
        assert two["sync"]["records_accepted"] - one["sync"]["records_accepted"] in (0, 1)
    finally:
        for command in (("superset", "stop"), ("sandbox", "down"), ("warehouse-stop",)):
            _edp(home, *command, port=port)
