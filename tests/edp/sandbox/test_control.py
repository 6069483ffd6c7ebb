"""``edp.sandbox.control`` up/down/status: the stand-ins as a real background process per test."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest
from standins.anshan.auth import signed_headers

from edp.sandbox import control

pytestmark = pytest.mark.integration

CREDENTIALS = {
    "weather_api_key": "test-weather-key",
    "anshan_app_key": "test-app-key",
    "anshan_app_secret": "test-app-secret",
}


@pytest.fixture
def home(tmp_path: Path):
    yield tmp_path
    control.down(tmp_path)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_status_down(home):
    info = control.up(home, seed=7, scale=0.5, **CREDENTIALS)
    assert {"pid", "weather_url", "anshan_url", "seed", "scale"} <= set(info)
    assert info["seed"] == 7 and info["scale"] == 0.5
    assert control.state_file(home).exists()
    assert "test-app-secret" not in control.state_file(home).read_text()

    with httpx.Client(trust_env=False, timeout=10) as http:
        stations = http.get(f"{info['weather_url']}/api/v1/stations", headers={"X-Api-Key": "test-weather-key"})
        assert stations.status_code == 200 and len(stations.json()["stations"]) == 20
        path = "/api/exchange/v1/feedback"
        feedback = http.get(
            f"{info['anshan_url']}{path}",
            params={"since": "2026-01-01T00:00:00+08:00"},
            headers=signed_headers("test-app-key", "test-app-secret", "GET", path),
        )
        assert feedback.status_code == 200 and feedback.json() == []

    again = control.up(home, seed=7, scale=0.5, **CREDENTIALS)
    assert again == info
    current = control.status(home)
    assert current is not None and current["running"] and current["pid"] == info["pid"]
    with pytest.raises(control.SandboxError, match="seed"):
        control.up(home, seed=8, scale=0.5, **CREDENTIALS)
    with pytest.raises(control.SandboxError, match="credentials"):
        control.up(home, seed=7, scale=0.5, **{**CREDENTIALS, "anshan_app_secret": "other"})

    assert control.down(home) is True
    assert not alive(info["pid"])
    assert not control.state_file(home).exists()
    assert control.down(home) is False
    assert control.status(home) is None


def test_anshan_state_survives_down_and_up(home):
    info = control.up(home, **CREDENTIALS)
    assert (Path(info["state_dir"]) / "anshan.sqlite3").exists()
    control.down(home)
    restarted = control.up(home, **CREDENTIALS)
    assert restarted["pid"] != info["pid"]
    assert restarted["state_dir"] == info["state_dir"]


def test_stale_record_is_replaced(home):
    control.state_file(home).parent.mkdir(parents=True)
    control.state_file(home).write_text('{"pid": 999999999, "weather_url": "http://127.0.0.1:9", "anshan_url": "x"}')
    stale = control.status(home)
    assert stale is not None and stale["running"] is False
    info = control.up(home, **CREDENTIALS)
    assert info["pid"] != 999999999 and control.status(home)["running"]


def test_failed_start_names_the_log(home):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(control.SandboxError) as failure:
            control.up(home, weather_port=port, timeout=20, **CREDENTIALS)
    assert str(control.log_file(home)) in str(failure.value)
    assert "Address already in use" in control.log_file(home).read_text()
    assert control.status(home) is None


def test_standins_serve_refuses_to_start_without_credentials(home, monkeypatch):
    from standins.__main__ import main

    for name in (control.ENV_WEATHER_API_KEY, control.ENV_ANSHAN_APP_KEY, control.ENV_ANSHAN_APP_SECRET):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit, match="missing credentials: weather_api_key, anshan_app_key, anshan_app_secret"):
        main(["serve", "--home", str(home)])
    assert not control.state_file(home).exists()


def test_the_platform_never_imports_the_standins():
    """Production code reaches the stand-ins only through the process and its URLs file."""
    import subprocess
    import sys

    code = (
        "import sys, pkgutil, importlib\n"
        "import edp, connectors\n"
        "for pkg in (edp, connectors):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if 'dag_factory' not in m.name:\n"
        "            importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] in ('standins', 'sandbox')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.strip() == "[]"


def test_days_is_passed_recorded_and_part_of_the_sandbox_identity(home):
    info = control.up(home, seed=7, scale=0.2, days=5, departments={"police": {}}, **CREDENTIALS)
    assert info["days"] == 5
    days = {p.name.rsplit("_", 1)[1][:8] for p in Path(info["police_url"]).glob("JJXX_*.csv")}
    assert len(days) == 5
    assert control.up(home, seed=7, scale=0.2, days=5, departments={"police": {}}, **CREDENTIALS) == info
    with pytest.raises(control.SandboxError, match="days"):
        control.up(home, seed=7, scale=0.2, days=6, departments={"police": {}}, **CREDENTIALS)
    control.down(home)
    # Started again with another length, the police drop is written again for it.
    again = control.up(home, seed=7, scale=0.2, days=4, departments={"police": {}}, **CREDENTIALS)
    assert again["days"] == 4 and len(list(Path(again["police_url"]).glob("JJXX_*.csv"))) == 4


def _fake_sandbox(home: Path, lines: int, every: float) -> list[str]:
    """A process that logs ``lines`` progress lines ``every`` seconds apart, then writes its state file."""
    import sys

    state = control.state_file(home)
    state.parent.mkdir(parents=True, exist_ok=True)
    code = (
        "import json, os, sys, time\n"
        f"for i in range({lines}):\n"
        f"    print('step', i, flush=True); time.sleep({every})\n"
        f"open({str(state)!r}, 'w').write(json.dumps({{'pid': os.getpid()}}))\n"
        "time.sleep(30)\n"
    )
    return [sys.executable, "-c", code]


def _start(home: Path, command: list[str], timeout: float) -> dict:
    import subprocess

    log_path = control.log_file(home)
    with open(log_path, "ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        return control._await_start(home, process, log_path, 0, timeout)
    finally:
        process.kill()
        process.wait()


def test_a_start_that_keeps_making_progress_may_take_longer_than_the_timeout(home, caplog):
    caplog.set_level("INFO", logger=control.__name__)
    started = __import__("time").monotonic()
    info = _start(home, _fake_sandbox(home, lines=8, every=0.3), timeout=1.0)
    assert __import__("time").monotonic() - started > 2.0  # longer than the timeout, never silent for it
    assert info["pid"] > 0
    assert [r.getMessage().split(": ", 1)[1] for r in caplog.records][:8] == [f"step {i}" for i in range(8)]


def test_a_silent_start_fails_after_the_timeout(home):
    with pytest.raises(control.SandboxError, match="no progress for 1 s"):
        _start(home, _fake_sandbox(home, lines=1, every=5.0), timeout=1.0)
