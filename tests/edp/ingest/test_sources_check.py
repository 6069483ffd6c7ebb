"""`edp sources check` during an outage: every source at once, one short try each, a status per source.

The sources are pointed (by sources.yml) at kinds of "down" that would otherwise cost a retry budget each: a
server that accepts and never answers, a closed port, a server refusing the API key with 401, a server answering
an HTML page where XML is due, a drop folder that does not exist. The real CLI reports each with its status and
finishes within twice the configured timeout (plus the interpreter's start).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standins.natural_resources.app import create_app as create_wfs_app
from standins.transport.app import create_app as create_transport_app
from standins.weather.app import create_app as create_weather_app

from connectors.base import CheckResult, CheckStatus, check_status
from connectors.http import CredentialsRefused, SourceRejected
from edp.errors import DataRejected, SourceUnavailable
from edp.ingest.source_check import DEADLINE_FACTOR, SourceCheck, check_source, check_sources, exit_code
from edp.secrets import generated_secret, source_credential
from edp.settings import Settings
from tests.support.platform import NO_WAREHOUSE_URL
from tests.support.standin_servers import StandinServers

pytestmark = pytest.mark.integration

# What starting the interpreter and importing the CLI and the connectors may take on a loaded two-core machine
# (up to 38 s seen at load 13, seven test runs beside it; a few seconds on a quiet one): not a speed claim.
# The bounds that matter are on the check's own time (each row's elapsed_s), which the timeout decides; the old
# sequential check with its retries took about 65 s per source that was down and fails the wall bound too.
STARTUP_ALLOWANCE_S = 60.0
DEFAULT_TIMEOUT_S = Settings.model_fields["sources_check_timeout_seconds"].default


class _Silent:
    """A TCP server on loopback that accepts connections and never answers (a hung service)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def _answering(status: int, content_type: str, body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[dict[str, object]]:
    """A sources.yml with every source down in its own way but the bureau's inbox, and the expected statuses."""
    silent = _Silent()
    refusing = _answering(401, "application/json", b'{"error": "invalid api key"}')
    html = _answering(200, "text/html", "<html><body>系统维护中 under maintenance</body></html>".encode())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sources = {
        "weather": {"url": f"http://127.0.0.1:{refusing.server_port}", "credentials": {"api_key": "EDP_T_WEATHER_KEY"}},
        "water": {
            "url": f"postgresql+psycopg://reader@127.0.0.1:{_closed_port()}/sl323",
            "credentials": {"password": "EDP_T_WATER_PASSWORD"},
        },
        "police": {"url": str(tmp_path / "no-such-drop")},
        "natural_resources": {"url": f"http://127.0.0.1:{html.server_port}"},
        "transport": {
            "url": f"http://127.0.0.1:{silent.port}",
            "credentials": {"client_id": "EDP_T_TRANSPORT_ID", "client_secret": "EDP_T_TRANSPORT_SECRET"},
        },
        "bureau": {"url": str(inbox)},
    }
    path = tmp_path / "sources.yml"
    path.write_text(json.dumps({"sources": sources}, ensure_ascii=False), encoding="utf-8")
    expected = {
        "weather": "refused_credentials",
        "water": "unreachable",
        "police": "unreachable",
        "natural_resources": "wrong_contract",
        "transport": "unreachable",
        "bureau": "reachable",
    }
    try:
        yield {"sources_file": path, "expected": expected, "silent_port": silent.port}
    finally:
        silent.close()
        for server in (refusing, html):
            server.shutdown()
            server.server_close()


def _run_check(tmp_path: Path, sources_file: Path, *args: str, timeout: float | None) -> tuple[float, int, str, str]:
    home = tmp_path / "home"
    (home / "run").mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDP_")}
    env |= {
        "EDP_HOME": str(home),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "EDP_SOURCES_FILE": str(sources_file),
        "EDP_WAREHOUSE_URL": NO_WAREHOUSE_URL,
    }
    if timeout is not None:
        env["EDP_SOURCES_CHECK_TIMEOUT_SECONDS"] = str(timeout)
    edp = str(Path(sys.executable).with_name("edp"))
    start = time.monotonic()
    done = subprocess.run([edp, "sources", "check", *args], env=env, capture_output=True, text=True, timeout=120)
    return time.monotonic() - start, done.returncode, done.stdout, done.stderr


def test_an_outage_is_reported_per_source_within_twice_the_timeout(outage: dict, tmp_path: Path) -> None:
    # given six sources, five of them down in five ways, and a timeout of 1.5 s
    timeout = 1.5
    # when the real CLI checks them, its output a pipe (so JSON, the default off a terminal)
    wall, code, out, err = _run_check(tmp_path, outage["sources_file"], timeout=timeout)
    # then each source has its status, in the configured order, and the exit code says "source unavailable"
    rows = json.loads(out)
    assert {r["source"]: r["status"] for r in rows} == outage["expected"], out
    assert code == SourceUnavailable.exit_code, err
    assert [r["source"] for r in rows] == ["weather", "water", "police", "natural_resources", "transport", "bureau"]
    by_name = {r["source"]: r for r in rows}
    assert "401" in by_name["weather"]["detail"] and "API key rejected" in by_name["weather"]["detail"]
    assert "Connection refused" in by_name["water"]["detail"] or "connection refused" in by_name["water"]["detail"]
    assert "no-such-drop" in by_name["police"]["detail"]
    assert "not WFS_Capabilities" in by_name["natural_resources"]["detail"]
    assert "ReadTimeout" in by_name["transport"]["detail"] and "one attempt" in by_name["transport"]["detail"]
    assert "retries" not in " ".join(r["detail"] for r in rows)
    # no generated credential appears (they exist in this home's secrets)
    for secret in (tmp_path / "home" / "secrets").iterdir():
        assert secret.read_text(encoding="utf-8").strip() not in out + err
    # the hung source took the timeout (one attempt, no retries), nothing waited past the deadline
    assert timeout * 0.9 <= by_name["transport"]["elapsed_s"] <= DEADLINE_FACTOR * timeout + 0.5
    assert all(r["elapsed_s"] <= DEADLINE_FACTOR * timeout + 0.5 for r in rows), rows
    checking = max(r["elapsed_s"] for r in rows)
    print(f"edp sources check, timeout {timeout} s: {checking:.2f} s checking, {wall:.2f} s wall")
    assert wall < DEADLINE_FACTOR * timeout + STARTUP_ALLOWANCE_S


def test_with_the_default_timeout_it_is_a_table_and_done_in_under_15_s(outage: dict, tmp_path: Path) -> None:
    wall, code, out, err = _run_check(tmp_path, outage["sources_file"], "--format", "table", timeout=None)
    header, *lines = out.splitlines()
    assert header.split()[:2] == ["source", "数据源"] and header.split()[4:6] == ["elapsed_s", "耗时"]
    table = {line.split()[0]: (line.split()[1], float(line.split()[2])) for line in lines}
    assert {name: status for name, (status, _) in table.items()} == outage["expected"], out
    assert code == SourceUnavailable.exit_code and err == "", err
    checking = max(elapsed for _, elapsed in table.values())
    print(
        f"edp sources check, five sources down, default timeout {DEFAULT_TIMEOUT_S} s: "
        f"{checking:.2f} s checking, {wall:.2f} s wall with the interpreter's start"
    )
    # the hung source took one default timeout; the check is bounded by twice it, under 15 s
    assert DEFAULT_TIMEOUT_S * 0.9 <= table["transport"][1] <= checking <= DEADLINE_FACTOR * DEFAULT_TIMEOUT_S + 0.5
    assert checking < 15
    assert wall < DEADLINE_FACTOR * DEFAULT_TIMEOUT_S + STARTUP_ALLOWANCE_S


def test_a_database_that_accepts_and_never_answers_costs_one_connect_timeout(home_settings: Settings) -> None:
    silent = _Silent()
    try:
        settings = Settings(sources_file=_one_source(home_settings, "water", silent.port))
        checked = check_source(settings, "water", timeout=2.0)
    finally:
        silent.close()
    assert checked.status is CheckStatus.UNREACHABLE, checked
    assert "timeout" in checked.detail.lower() and "one attempt" in checked.detail
    assert 1.8 <= checked.elapsed_s <= DEADLINE_FACTOR * 2.0 + 0.5


def _one_source(settings: Settings, name: str, port: int) -> Path:
    path = settings.home_dir / "sources.yml"
    entry = {"url": f"postgresql+psycopg://reader@127.0.0.1:{port}/sl323", "credentials": {"password": "EDP_T_PW"}}
    path.write_text(json.dumps({"sources": {name: entry}}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (CredentialsRefused("water: refused the account", 0), CheckStatus.REFUSED_CREDENTIALS),
        (SourceRejected("HTTP 401", 401), CheckStatus.REFUSED_CREDENTIALS),
        (SourceRejected("HTTP 403", 403), CheckStatus.REFUSED_CREDENTIALS),
        (SourceRejected("HTTP 404", 404), CheckStatus.WRONG_CONTRACT),
        (SourceRejected("body is not JSON", 200), CheckStatus.WRONG_CONTRACT),
        (SourceRejected("HTTP 500", 500), CheckStatus.UNREACHABLE),
        (SourceUnavailable("ReadTimeout"), CheckStatus.UNREACHABLE),
        (PermissionError("denied"), CheckStatus.UNREACHABLE),
        (DataRejected("Content-Length over the limit"), CheckStatus.WRONG_CONTRACT),
        (ValueError("not XML"), CheckStatus.WRONG_CONTRACT),
    ],
)
def test_what_ended_a_check_decides_its_status(exc: BaseException, status: CheckStatus) -> None:
    assert check_status(exc) is status
    failed = CheckResult.failed("s", exc)
    assert (failed.ok, failed.status, failed.message) == (False, status, str(exc))


def test_a_result_without_a_status_is_reachable_when_ok_and_a_status_must_agree_with_ok() -> None:
    assert CheckResult("s", True, "fine").status is CheckStatus.REACHABLE
    assert CheckResult("s", False, "down").status is CheckStatus.UNREACHABLE
    with pytest.raises(ValueError, match="ok exactly when"):
        CheckResult("s", False, "?", status=CheckStatus.REACHABLE)


def test_the_exit_code_is_the_worst_status_found() -> None:
    def checks(*statuses: CheckStatus) -> list[SourceCheck]:
        return [SourceCheck(f"s{i}", s, "", 0.0) for i, s in enumerate(statuses)]

    ok, cred, down, bad, conf = (
        CheckStatus.REACHABLE,
        CheckStatus.REFUSED_CREDENTIALS,
        CheckStatus.UNREACHABLE,
        CheckStatus.WRONG_CONTRACT,
        CheckStatus.MISCONFIGURED,
    )
    assert exit_code(checks(ok, ok)) == 0
    assert exit_code(checks(ok, bad)) == 4
    assert exit_code(checks(bad, cred)) == 2
    assert exit_code(checks(bad, conf)) == 2
    assert exit_code(checks(cred, down, bad)) == 3


def test_a_source_that_cannot_be_set_up_is_misconfigured_not_raised(home_settings: Settings) -> None:
    # the embedded default names the sandbox, and none runs for this home
    checked = check_source(home_settings, "weather", timeout=1.0)
    assert checked.status is CheckStatus.MISCONFIGURED and "edp sandbox up" in checked.detail


def test_threads_generating_one_secret_at_once_all_get_its_one_value(home_settings: Settings) -> None:
    values: list[str] = []
    threads = [
        threading.Thread(target=lambda: values.append(generated_secret(home_settings, "raced"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(values) == 8 and len(set(values)) == 1 and values[0]
    assert sorted(p.name for p in (home_settings.home / "secrets").iterdir()) == ["raced"]


def test_the_stand_ins_are_reachable_and_a_wrong_key_is_refused(
    home_settings: Settings, standin_servers: StandinServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the HTTP stand-ins of weather, transport and natural resources, with this home's credentials
    s = home_settings
    standin_servers.start(
        create_weather_app(api_key=source_credential(s, "weather", "api_key"), seed=7, scale=0.1), source="weather"
    )
    transport = create_transport_app(
        client_id=source_credential(s, "transport", "client_id"),
        client_secret=source_credential(s, "transport", "client_secret"),
        seed=7,
        scale=0.1,
    )
    standin_servers.start(transport, source="transport")
    standin_servers.start(create_wfs_app(seed=7, scale=0.1), source="natural_resources")
    names = ["weather", "transport", "natural_resources"]
    # when they are checked, then each is reachable
    checks = check_sources(Settings(), names, timeout=5.0)
    assert [(c.source, c.status) for c in checks] == [(n, CheckStatus.REACHABLE) for n in names], checks
    assert exit_code(checks) == 0
    # and with a wrong API key and client secret configured, both are refused credentials (exit 2), the secret unsaid
    monkeypatch.setenv("EDP_WEATHER_API_KEY", "wrong-api-key-123")
    monkeypatch.setenv("EDP_TRANSPORT_CLIENT_SECRET", "wrong-secret-456")
    refused = check_sources(Settings(), names, timeout=5.0)
    assert [c.status for c in refused] == [
        CheckStatus.REFUSED_CREDENTIALS,
        CheckStatus.REFUSED_CREDENTIALS,
        CheckStatus.REACHABLE,
    ], refused
    assert "invalid_client" in refused[1].detail and exit_code(refused) == 2
    assert not any("wrong-api-key-123" in c.detail or "wrong-secret-456" in c.detail for c in refused)


def test_an_s3_drop_nobody_answers_for_is_unreachable_after_one_try(home_settings: Settings) -> None:
    entry = {"url": "s3://police-drop/daily", "options": {"endpoint": f"127.0.0.1:{_closed_port()}"}}
    path = home_settings.home_dir / "sources.yml"
    path.write_text(json.dumps({"sources": {"police": entry}}), encoding="utf-8")
    checked = check_source(Settings(sources_file=path), "police", timeout=1.0)
    assert checked.status is CheckStatus.UNREACHABLE and "police: cannot list s3://police-drop/daily" in checked.detail
    assert checked.elapsed_s <= DEADLINE_FACTOR * 1.0  # minio's own client would retry for seconds


def test_a_check_that_does_not_bound_its_own_calls_is_left_behind_at_twice_the_timeout(
    home_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Stuck:
        def check(self) -> CheckResult:
            time.sleep(30)  # a connector ignoring ctx.check_timeout, a hung mount
            return CheckResult("weather", True, "late")

        def close(self) -> None:
            pass

    monkeypatch.setattr("edp.ingest.source_check.build_source", lambda *a, **k: Stuck())
    start = time.monotonic()
    (checked,) = check_sources(Settings(), ["weather"], timeout=0.2)
    assert checked.status is CheckStatus.UNREACHABLE and "no answer within 0.4 s" in checked.detail
    assert 0.4 <= checked.elapsed_s <= time.monotonic() - start <= 0.4 + 1.0
