"""Each expected failure through the real CLI (subprocess ``edp``): its class's exit code, at most two lines
on stderr, no traceback, no secret; ``--debug`` / ``EDP_DEBUG=1`` add the traceback (issue 15, "Errors")."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from standins.natural_resources.app import create_app as create_wfs_app
from standins.server import run_in_thread

from edp import cli_errors
from edp.errors import ConfigError, DataRejected, SourceUnavailable

EDP = str(Path(sys.executable).with_name("edp"))
# Recognisable secrets: none may appear in anything the CLI prints.
PASSWORD = "Pw-Recognisable-4242"
PII_KEY = "PiiKey-Recognisable-7731"
API_KEY = "ApiKey-Recognisable-0099"
SECRETS = (PASSWORD, PII_KEY, API_KEY)


def _closed_port() -> int:
    """A loopback port nobody listens on: a connection is refused at once (no blackhole, no wait)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _edp(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EDP_") and k != "XDG_RUNTIME_DIR"}
    clean.update(EDP_HOME=str(home), EDP_PII_KEY=PII_KEY, EDP_WEATHER_API_KEY=API_KEY, **env)
    return subprocess.run([EDP, *args], capture_output=True, text=True, timeout=120, env=clean)


# Progress of long work is logged on stderr as it goes (edp.progress); the error comes after it.
_PROGRESS_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO edp\.progress: ")


def _expected(run: subprocess.CompletedProcess[str], code: int, *words: str) -> list[str]:
    lines = [line for line in run.stderr.splitlines() if not _PROGRESS_LINE.match(line)]
    assert run.returncode == code, run.stderr[-3000:]
    assert 1 <= len(lines) <= 2, run.stderr[-3000:]
    assert lines[0].startswith("error: ")
    assert "Traceback" not in run.stderr and "RuntimeDirWarning" not in run.stderr
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr
    for word in words:
        assert word in run.stderr, run.stderr
    return lines


def _warehouse_down(port: int) -> str:
    return f"postgresql://edp:{PASSWORD}@127.0.0.1:{port}/edp"


def test_an_unreachable_warehouse_is_one_line_and_exit_9(tmp_path: Path) -> None:
    port = _closed_port()
    run = _edp(tmp_path, "sync", "status", EDP_WAREHOUSE_URL=_warehouse_down(port))
    lines = _expected(run, 9, f"127.0.0.1:{port}", "connection refused", "EDP_WAREHOUSE_URL")
    assert lines[1].startswith("hint: ")


def test_debug_and_edp_debug_show_the_traceback_still_without_secrets(tmp_path: Path) -> None:
    url = _warehouse_down(_closed_port())
    for run in (
        _edp(tmp_path, "--debug", "sync", "status", EDP_WAREHOUSE_URL=url),
        _edp(tmp_path, "sync", "status", EDP_WAREHOUSE_URL=url, EDP_DEBUG="1"),
    ):
        assert run.returncode == 9
        assert "Traceback (most recent call last)" in run.stderr
        assert "OperationalError" in run.stderr  # the driver's error, whole
        assert run.stderr.rstrip().splitlines()[-2].startswith("error: cannot reach the warehouse")
        for secret in SECRETS:
            assert secret not in run.stderr


def test_a_warehouse_url_that_is_not_a_url_is_refused_naming_the_variable(tmp_path: Path) -> None:
    run = _edp(tmp_path, "migrate", EDP_WAREHOUSE_URL="notaurl")
    _expected(run, ConfigError.exit_code, "EDP_WAREHOUSE_URL", "not a postgresql")
    # A URL whose port is not a number: refused too, and its password is not echoed.
    run = _edp(tmp_path, "migrate", EDP_WAREHOUSE_URL=f"postgresql://edp:{PASSWORD}@db:port/edp")
    _expected(run, ConfigError.exit_code, "EDP_WAREHOUSE_URL")


def test_a_setting_of_the_wrong_type_names_its_variable(tmp_path: Path) -> None:
    run = _edp(tmp_path, "status", EDP_SUPERSET_PORT="eighty")
    _expected(run, ConfigError.exit_code, "EDP_SUPERSET_PORT")


@pytest.mark.integration
def test_refused_credentials_are_a_configuration_error(tmp_path: Path, pg_admin: sa.Engine | None) -> None:
    if pg_admin is None:
        pytest.skip("no test PostgreSQL")
    ghost = f"ghost_{uuid.uuid4().hex[:8]}"  # a role that does not exist: refused whatever the server's auth method
    url = pg_admin.url.set(drivername="postgresql", username=ghost, password=PASSWORD, database="postgres")
    run = _edp(tmp_path, "sync", "status", EDP_WAREHOUSE_URL=url.render_as_string(hide_password=False))
    _expected(run, ConfigError.exit_code, "refused the login", ghost, "EDP_WAREHOUSE_URL")


def test_an_unknown_source_is_one_line_naming_the_known_ones(tmp_path: Path) -> None:
    run = _edp(tmp_path, "ingest", "no_such_source")
    _expected(run, ConfigError.exit_code, "no_such_source", "weather")


def test_a_bad_date_is_a_usage_error_not_a_value_error(tmp_path: Path) -> None:
    run = _edp(tmp_path, "sync", "reconcile", "--date", "2026-13-01")
    lines = _expected(run, 2, "--date", "2026-13-01", "YYYY-MM-DD")
    assert "ValueError" not in run.stderr
    assert lines[1] == "hint: see `edp sync reconcile --help`"
    run = _edp(tmp_path, "report", "quality", "--from", "yesterday", "--to", "2026-07-01")
    _expected(run, 2, "--from", "yesterday")


def test_a_missing_file_the_operator_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "sources.yml"
    run = _edp(tmp_path, "ingest", "weather", EDP_SOURCES_FILE=str(missing))
    _expected(run, ConfigError.exit_code, str(missing), "EDP_SOURCES_FILE")


def _ingest_weather(home: Path, warehouse_url: str, url: str, **options: int) -> subprocess.CompletedProcess[str]:
    """`edp ingest weather` with the weather bureau at ``url`` (and these sources.yml options)."""
    sources = home / "sources.yml"
    source: dict = {"url": url, "credentials": {"api_key": "EDP_WEATHER_API_KEY"}, "options": options}
    sources.write_text(yaml.safe_dump({"sources": {"weather": source}}), encoding="utf-8")
    return _edp(home, "ingest", "weather", EDP_SOURCES_FILE=str(sources), EDP_WAREHOUSE_URL=warehouse_url)


@pytest.mark.integration
def test_a_source_that_is_down_ends_in_one_line_after_its_retry_budget(
    tmp_path: Path, warehouse_url: str | None
) -> None:
    if warehouse_url is None:
        pytest.skip("no test PostgreSQL")
    # max_seconds: the retry budget (sources.yml options); 0 gives up after the first refused connection.
    run = _ingest_weather(tmp_path, warehouse_url, f"http://127.0.0.1:{_closed_port()}/api", max_seconds=0)
    _expected(run, SourceUnavailable.exit_code, "weather", "Connection refused")


@pytest.mark.integration
def test_a_source_answering_outside_its_contract_is_data_rejected_naming_each_dataset(
    tmp_path: Path, warehouse_url: str | None
) -> None:
    if warehouse_url is None:
        pytest.skip("no test PostgreSQL")
    # The weather bureau's url set to the natural-resources WFS: a real server, which knows none of its paths.
    wfs = run_in_thread(create_wfs_app(seed=7, scale=0.1))
    try:
        run = _ingest_weather(tmp_path, warehouse_url, wfs.url)
    finally:
        wfs.stop()
    assert run.returncode == DataRejected.exit_code, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert not [secret for secret in SECRETS if secret in run.stdout + run.stderr]
    # Each dataset is logged as it fails (the others go on); the last line sums them up.
    *_, last = run.stderr.splitlines()
    assert last.startswith("error: weather: 3 dataset(s) failed"), run.stderr[-3000:]
    assert "HTTP 404" in last and all(f"{name}: SourceRejected" in last for name in ("stations", "observations"))


def test_a_bug_keeps_its_traceback_without_locals_and_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDP_PII_KEY", PII_KEY)

    def broken(**_: object) -> None:
        local = "-".join(("LocalValue", "31337"))  # shown only if locals were printed
        raise RuntimeError(f"unexpected state near postgresql://u:{PASSWORD}@h/db with {PII_KEY} ({len(local)})")

    with pytest.raises(SystemExit) as ended:
        cli_errors.run(broken)
    err = capsys.readouterr().err
    assert ended.value.code == cli_errors.EXIT_BUG
    assert "Traceback (most recent call last)" in err and "RuntimeError" in err
    assert "hint: this is a bug" in err
    assert PASSWORD not in err and PII_KEY not in err
    assert "LocalValue-31337" not in err


def test_redact_masks_url_passwords_pairs_and_known_values() -> None:
    text = f"postgresql+psycopg://edp:{PASSWORD}@db/edp password={PASSWORD} key {PII_KEY}"
    masked = cli_errors.redact(text, [PII_KEY])
    assert masked == "postgresql+psycopg://edp:***@db/edp password=*** key ***"


def test_the_embedded_warehouse_imports_pgserver_without_a_runtime_dir_warning(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDP_") and k != "XDG_RUNTIME_DIR"}
    env["EDP_HOME"] = str(tmp_path)
    quiet = (
        "from edp.settings import get_settings; from edp.storage.warehouse import _pgserver; _pgserver(get_settings())"
    )
    run = subprocess.run(
        [sys.executable, "-W", "error::Warning", "-c", quiet], capture_output=True, text=True, env=env, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o700
    # The control: pgserver imported plainly, as before, warns in this same environment.
    plain = subprocess.run(
        [sys.executable, "-c", "import pgserver"], capture_output=True, text=True, env=env, timeout=60
    )
    assert "RuntimeDirWarning" in plain.stderr


def test_retries_exhausted_and_wrapped_driver_errors_are_classified() -> None:
    import httpx
    from tenacity import Retrying, stop_after_attempt

    def refuse() -> None:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=httpx.Request("GET", "http://h:1/api"))

    with pytest.raises(Exception) as caught:
        Retrying(stop=stop_after_attempt(2), reraise=False)(refuse)
    failure = cli_errors.classify(caught.value)
    assert failure is not None and failure.exit_code == SourceUnavailable.exit_code
    assert "still failing after retries" in failure.message and "http://h:1/api" in failure.message
    assert cli_errors.classify(KeyError("a bug")) is None
