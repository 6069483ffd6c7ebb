"""The probe's oversized page, over real HTTP on loopback: 200,000 records (about 50 MB) where 500 were asked for.

A small server speaks the transport contract (token endpoint, cursor pages) and answers the page three
ways: with its Content-Length, chunked without one, and as a small body holding more records than asked.
The connector reads it in a child process, whose peak RSS is measured: each answer is refused with one
error naming the page's URL, and the child's memory stays near what it needs to start (the body cap
stops the read; nothing is parsed or typed). Through ``extract`` with a warehouse, the dataset then fails
with one error naming the page, nothing is registered and its cursor stays where it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from edp.ingest.extract import DatasetErrors, extract
from edp.settings import Settings
from edp.storage import ops
from tests.support.warehouse import count

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
RECORDS = 200_000
ASKED = 500


def _event(i: int) -> dict:
    return {
        "event_id": f"EV{i:08d}",
        "type": "施工",
        "road_code": "G15",
        "stake_from": "K123+450",
        "stake_to": "K124+000",
        "direction": "上行",
        "lon": 122.7,
        "lat": 40.8,
        "division_code": "210381001000",
        "start_time": "2026-11-28T08:00:00+08:00",
        "status": "进行中",
        "detour": "经S321绕行" * 4,
        "updated_at": "2026-11-28T08:00:00+08:00",
        "deleted": False,
    }


def _page(count: int) -> bytes:
    return json.dumps({"data": [_event(i) for i in range(count)], "next_cursor": "c2"}, ensure_ascii=False).encode()


class _Bureau(BaseHTTPRequestHandler):
    big = b""
    small = b""
    mode = "length"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # the token endpoint
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(json.dumps({"access_token": "t", "token_type": "Bearer", "expires_in": 600}).encode())

    def do_GET(self) -> None:
        mode = type(self).mode
        if mode == "records":
            self._send(type(self).small)
            return
        body = type(self).big
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if mode == "length":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for at in range(0, len(body), 1 << 16):
                chunk = body[at : at + (1 << 16)]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading at its limit: the point of the test

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def bureau() -> Iterator[str]:
    _Bureau.big = _page(RECORDS)
    _Bureau.small = _page(ASKED + 1)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Bureau)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# The child: build the connector as the platform does (default limits), read one page, report.
CHILD = """
import json, sys
from datetime import datetime, UTC
from connectors.context import SourceContext
from connectors.transport import create
from edp.errors import DataRejected
def hwm():  # peak RSS of this process image, kB (ru_maxrss would carry the parent's over exec)
    with open("/proc/self/status") as fh:
        return int(next(line for line in fh if line.startswith("VmHWM:")).split()[1])
creds = {"client_id": "id", "client_secret": "secret"}
src = create(SourceContext(name="transport", url=sys.argv[1], credential=creds.get))
start = hwm()
try:
    pages = list(src.read("road_events", None, datetime(2026, 11, 29, tzinfo=UTC)))
    error = None
except DataRejected as exc:
    error = f"{type(exc).__name__}: {exc}"
peak = hwm()
print(json.dumps({"error": error, "start_kb": start, "peak_kb": peak}))
"""


def _read_in_child(url: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url], cwd=ROOT, capture_output=True, text=True, timeout=600, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["length", "chunked"])
def test_an_oversized_page_is_refused_with_its_url_and_memory_stays_bounded(bureau: str, mode: str) -> None:
    # given the bureau answering 200,000 records (about 50 MB) to limit=500
    _Bureau.mode = mode
    assert len(_Bureau.big) > 40 * 1024 * 1024
    # when the connector reads it in a child process
    result = _read_in_child(bureau)
    # then the page is refused by the body cap, naming its URL, and the child's memory stayed bounded
    assert result["error"] is not None and result["error"].startswith("BodyTooLarge: ")
    assert "/v2/road-events?limit=500" in result["error"]
    assert "33554432-byte limit" in result["error"]
    grown_mb = (result["peak_kb"] - result["start_kb"]) / 1024
    print(f"{mode}: peak RSS {result['peak_kb'] / 1024:.0f} MB, grown {grown_mb:.0f} MB while reading")
    assert grown_mb < 120, result  # the 32 MB cap plus buffers; unbounded it was over 1 GB


def test_a_page_with_more_records_than_asked_is_refused_naming_it(bureau: str) -> None:
    _Bureau.mode = "records"
    result = _read_in_child(bureau)
    assert result["error"] == (
        "PageTooLarge: transport: GET /v2/road-events?limit=500: answered 501 records where 500 were asked for; "
        "the page was refused, not loaded"
    )


def _sources(folder: Path, url: str, limits: dict[str, int]) -> Path:
    entry = {
        "url": url,
        "credentials": {"client_id": "EDP_TRANSPORT_CLIENT_ID", "client_secret": "EDP_TRANSPORT_CLIENT_SECRET"},
        "options": {"rate_per_second": 0},
        "limits": limits,
    }
    path = folder / "sources.yml"
    path.write_text(json.dumps({"sources": {"transport": entry}}), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mode", "limits", "error"),
    [
        ("length", {}, "BodyTooLarge: http://127.0.0.1:{port}/v2/road-events?limit=500: Content-Length"),
        ("records", {}, "PageTooLarge: transport: GET /v2/road-events?limit=500: answered 501 records where 500"),
        ("records", {"max_page_records": 100}, "PageTooLarge: transport: GET /v2/road-events?limit=100: answered 501"),
    ],
)
def test_ingest_fails_the_dataset_with_one_error_and_keeps_its_cursor(
    bureau: str, settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, limits: dict, error: str
) -> None:
    # given the platform pointed at the bureau, with the limits from sources.yml
    _Bureau.mode = mode
    for var in ("EDP_TRANSPORT_CLIENT_ID", "EDP_TRANSPORT_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    s = Settings(sources_file=_sources(tmp_path, bureau, limits))
    # when road_events is ingested
    with pytest.raises(DatasetErrors) as err:
        extract(s, "transport", ["road_events"])
    # then that dataset fails with one error naming the page; nothing is registered and the cursor stays
    assert list(err.value.errors) == ["road_events"]
    assert error.format(port=bureau.rsplit(":", 1)[1]) in str(err.value)
    assert ops.get_cursor(s, "transport", "road_events") is None
    assert count(s, "select count(*) from ops.batches") == 0
