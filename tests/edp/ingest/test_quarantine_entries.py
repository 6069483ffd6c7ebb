"""Quarantine entries in a real PostgreSQL: hostile records are kept (not failing the load), once per record.

Given records a source could send that jsonb cannot hold as they are (NaN, a NUL character) or that the
typing refuses (an object in a text field, a NULL observation time), when two runs re-read them, then
each run's load succeeds, the good record loads, and each bad record has one open entry naming page,
index, field and reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import CheckResult, Page, Source
from connectors.schema import Dataset, Field
from edp.ingest.extract import _Typed, register, type_page, write_batch
from edp.ingest.loader import load_batch
from edp.settings import Settings
from edp.storage.lake import open_lake
from tests.support.warehouse import rows

pytestmark = pytest.mark.integration

OBS = Dataset(
    "probe",
    "obs",
    "observations",
    (
        Field("station", "text", required=True),
        Field("obs_time", "timestamptz", required=True),
        Field("note", "text"),
        Field("value", "float"),
    ),
    ("station", "obs_time"),
)
RECORDS: list[Any] = [
    {"station": "S1", "obs_time": "2026-07-01T08:00:00+08:00", "note": "ok", "value": 1.0},
    {"station": "S2", "obs_time": None, "note": "no time", "value": 2.0},
    {"station": "S3", "obs_time": "2026-07-01T08:00:00+08:00", "note": {"level": "red"}, "value": 3.0},
    {"station": "S4", "obs_time": "2026-07-01T08:00:00+08:00", "note": "a\x00b", "value": float("nan")},
    {"station": "S5", "obs_time": "2026-07-01T08:00:00+08:00", "extra": float("inf")},
    {"station": "S6", "obs_time": "2026-07-01T08:00:00+08:00", "note": "\ud800"},
]


class _Probe(Source):
    name = "probe"
    title = "probe"

    def datasets(self) -> dict[str, Dataset]:
        return {"obs": OBS}

    def check(self) -> CheckResult:
        return CheckResult("probe", True, "")

    def read(self, dataset: str, cursor: str | None, until: datetime) -> Iterator[Page]:
        yield Page(b"", "application/json", RECORDS, "GET /obs")


def _run(settings: Settings, n: int) -> dict[str, Any]:
    lake = open_lake(settings)
    typed = _Typed()
    key = f"landing/probe/obs/2026-07-01/b{n}/page-00001.json.gz"
    type_page(_Probe(), OBS, Page(b"", "application/json", RECORDS, "GET /obs"), key, typed)
    at = datetime(2026, 7, 1, tzinfo=UTC) + timedelta(minutes=n)
    m = write_batch(
        lake, OBS, f"probe.obs.b{n}", at, typed, origin="extract", cursor_from=None, cursor_to=None, landing_keys=[]
    )
    register(settings, m)
    return load_batch(settings, m, lake)


def test_hostile_records_are_kept_once_and_the_good_one_loads(settings: Settings) -> None:
    first = _run(settings, 1)
    second = _run(settings, 2)  # the same window re-read (a lookback)
    assert (first["rows"], first["quarantined"]) == (1, 5)
    assert second["rows"] == 0
    entries = rows(
        settings, "select batch_id, locator, field, reason, record from ops.quarantine order by quarantine_id"
    )
    assert [(e["batch_id"], e["field"]) for e in entries] == [
        ("probe.obs.b1", "obs_time"),
        ("probe.obs.b1", "note"),
        ("probe.obs.b1", "note"),
        ("probe.obs.b1", "_extra"),
        ("probe.obs.b1", "note"),
    ]
    assert [e["locator"].rsplit(" ", 2)[-2:] for e in entries] == [["record", str(i)] for i in (1, 2, 3, 4, 5)]
    assert entries[0]["reason"] == "required value is missing"
    assert entries[1]["reason"] == "expected text: a JSON object is not text"
    assert entries[1]["record"]["note"] == {"level": "red"}
    assert "NUL" in entries[2]["reason"] and entries[2]["record"]["value"] == "nan"
    assert entries[2]["record"]["note"] == "a\\u0000b"
    assert "lone surrogate" in entries[4]["reason"] and entries[4]["record"]["note"] == "\\ud800"
