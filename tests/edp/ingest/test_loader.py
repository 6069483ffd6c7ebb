"""The load path against a real PostgreSQL: what is stored, what is not, and that values survive COPY.

Batches are built as extraction builds them (``_Typed`` → ``write_batch`` →
``register``) for small declared datasets, then loaded with ``load_batch``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from connectors.schema import Dataset, Field
from edp.ingest import extract
from edp.ingest.extract import Manifest, _Typed, register, write_batch
from edp.ingest.loader import load_batch, reload_batch
from edp.settings import Settings
from edp.storage.lake import Lake, open_lake
from tests.support.warehouse import column, count, execute, rows

pytestmark = pytest.mark.integration

T0 = datetime(2026, 7, 1, 0, 0, tzinfo=UTC)

READINGS = Dataset(
    "probe",
    "readings",
    "readings",
    (
        Field("station", "text", required=True),
        Field("tm", "timestamptz", required=True),
        Field("site", "text"),
        Field("value", "float"),
        Field("updated_at", "timestamptz"),
    ),
    ("station", "tm", "site"),
)
REGISTER = Dataset(
    "probe",
    "register",
    "register",
    (Field("code", "text", required=True), Field("name", "text"), Field("grade", "int")),
    ("code",),
    mode="snapshot",
)
TYPES = Dataset(
    "probe",
    "types",
    "types",
    (
        Field("id", "int", required=True),
        Field("label", "text"),
        Field("measure", "float"),
        Field("flag", "bool"),
        Field("day", "date"),
        Field("at", "timestamptz"),
        Field("doc", "json"),
    ),
    ("id",),
)


class Batches:
    """Writes and loads batches of one dataset, each extracted a minute after the last."""

    def __init__(self, settings: Settings, ds: Dataset) -> None:
        self.settings, self.ds = settings, ds
        self.lake: Lake = open_lake(settings)
        self.n = 0

    def write(self, records: Iterable[dict[str, Any]]) -> Manifest:
        typed = _Typed()
        for record in records:
            typed.source_rows += 1
            typed.rows[tuple(record.get(k) for k in self.ds.primary_key)] = {"_extra": None, **record}
            typed.flush_if_full(self.ds)
        self.n += 1
        m = write_batch(
            self.lake,
            self.ds,
            f"probe.{self.ds.name}.b{self.n}",
            T0 + timedelta(minutes=self.n),
            typed,
            origin="extract",
            cursor_from=None,
            cursor_to=None,
            landing_keys=[],
        )
        register(self.settings, m)
        return m

    def load(self, records: Iterable[dict[str, Any]]) -> dict[str, Any]:
        return load_batch(self.settings, self.write(records), self.lake)


def reading(station: str, hour: int, value: float | None, site: str | None = "A") -> dict[str, Any]:
    return {"station": station, "tm": T0 + timedelta(hours=hour), "site": site, "value": value, "updated_at": None}


def test_a_reread_window_adds_nothing_and_a_correction_is_a_new_version(settings: Settings) -> None:
    batches = Batches(settings, READINGS)
    # site NULL is part of the key: two keys differing only by NULL vs '' are different rows.
    window = [reading("S1", h, float(h)) for h in range(24)] + [reading("S2", 0, 1.0, None), reading("S2", 0, 2.0, "")]
    first = batches.load(window)
    assert (first["rows"], first["unchanged"]) == (26, 0)
    again = batches.load(window)
    assert (again["rows"], again["unchanged"]) == (0, 26)
    corrected = [*window[:5], reading("S1", 5, 55.5), *window[6:], reading("S1", 24, 24.0)]
    third = batches.load(corrected)
    assert (third["rows"], third["unchanged"]) == (2, 25)
    assert count(settings, "select count(*) from raw.probe__readings") == 28
    assert column(
        settings,
        "select value from raw.probe__readings where station='S1' and tm=:t order by _extracted_at",
        t=T0 + timedelta(hours=5),
    ) == [5.0, 55.5]
    # NULL keys: the NULL-site and the empty-site row are each stored once, never matched to each other.
    assert column(
        settings, "select coalesce(site, '<null>') from raw.probe__readings where station='S2' order by 1"
    ) == [
        "",
        "<null>",
    ]


def test_a_value_that_returns_is_stored_again_and_a_reload_replaces_its_rows(settings: Settings) -> None:
    batches = Batches(settings, READINGS)
    batches.load([reading("S1", 0, 1.0)])
    second = batches.write([reading("S1", 0, 2.0)])
    load_batch(settings, second, batches.lake)
    batches.load([reading("S1", 0, 1.0)])
    assert column(settings, "select value from raw.probe__readings order by _extracted_at") == [1.0, 2.0, 1.0]
    reloaded = reload_batch(settings, "probe", "readings", second.batch_id)
    assert reloaded["rows"] == 1
    assert column(settings, "select value from raw.probe__readings order by _extracted_at") == [1.0, 2.0, 1.0]


def test_an_unchanged_snapshot_adds_nothing_and_a_changed_one_is_stored_whole(settings: Settings) -> None:
    batches = Batches(settings, REGISTER)
    snapshot = [{"code": f"C{i:03d}", "name": f"site {i}", "grade": i % 3} for i in range(200)]
    assert batches.load(snapshot)["rows"] == 200
    # The same rows in another order: the same snapshot.
    same = batches.load(list(reversed(snapshot)))
    assert (same["rows"], same["unchanged"]) == (0, 200)
    changed = [*snapshot[:-1], {"code": "C199", "name": "renamed", "grade": 2}]
    assert batches.load(changed)["rows"] == 200
    assert batches.load(changed)["rows"] == 0
    assert count(settings, "select count(*) from raw.probe__register") == 400
    assert count(settings, "select count(distinct _batch_id) from raw.probe__register") == 2
    # A snapshot that returns to an earlier state is the current state again: stored.
    assert batches.load(snapshot)["rows"] == 200
    # Reloading the stored batch keeps its rows (it is not compared with itself).
    latest = column(settings, "select batch_id from ops.batches where inserted_count > 0 order by extracted_at desc")[0]
    assert reload_batch(settings, "probe", "register", latest)["rows"] == 200
    assert count(settings, "select count(*) from raw.probe__register where _batch_id = :b", b=latest) == 200


def test_keys_repeated_across_chunks_keep_the_newest_row(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "EXTRACT_CHUNK_ROWS", 10)
    batches = Batches(settings, READINGS)
    first = [dict(reading("S1", h, 1.0), updated_at=T0) for h in range(10)]
    later = [dict(reading("S1", h, 2.0), updated_at=T0 + timedelta(hours=1)) for h in range(5)]
    older = [dict(reading("S1", h, 0.5), updated_at=T0 - timedelta(hours=1)) for h in range(5, 10)]
    m = batches.write([*first, *later, *older])
    assert m.chunks == 2 and m.row_count == 20
    result = load_batch(settings, m, batches.lake)
    assert (result["rows"], result["unchanged"]) == (10, 10)
    values = column(settings, "select value from raw.probe__readings order by tm")
    assert values == [2.0] * 5 + [1.0] * 5


def test_values_survive_the_copy(settings: Settings) -> None:
    batches = Batches(settings, TYPES)
    odd = [
        {
            "id": 1,
            "label": "",
            "measure": math.nan,
            "flag": True,
            "day": date(2026, 2, 28),
            "at": datetime(2026, 1, 1, 1, 2, 3, 456789, tzinfo=UTC),
            "doc": '{"a": [1, "x"]}',
        },
        {"id": 2, "label": None, "measure": math.inf, "flag": False, "day": None, "at": None, "doc": None},
        {
            "id": 3,
            "label": 'quote " comma , newline \n and \\ backslash',
            "measure": -0.1,
            "flag": None,
            "day": None,
            "at": None,
            "doc": '"中文"',
        },
        {"id": 4, "label": "海城市 \t tab", "measure": 1e-300, "flag": None, "day": None, "at": None, "doc": "null"},
    ]
    assert batches.load(odd)["rows"] == 4
    got = {r["id"]: r for r in rows(settings, "select * from raw.probe__types")}
    assert got[1]["label"] == "" and got[2]["label"] is None
    assert math.isnan(got[1]["measure"]) and got[2]["measure"] == math.inf and got[4]["measure"] == 1e-300
    assert got[3]["label"] == odd[2]["label"] and got[4]["label"] == odd[3]["label"]
    assert (got[1]["flag"], got[2]["flag"], got[3]["flag"]) == (True, False, None)
    assert got[1]["day"] == date(2026, 2, 28) and got[1]["at"] == odd[0]["at"]
    assert got[1]["doc"] == {"a": [1, "x"]} and got[3]["doc"] == "中文"
    # Loading the same values again: their hashes match, nothing is added.
    assert batches.load(odd)["rows"] == 0


def test_a_raw_table_from_before_row_keys_is_migrated(settings: Settings) -> None:
    batches = Batches(settings, READINGS)
    execute(
        settings,
        "create table raw.probe__readings (station text, tm timestamptz, site text, value double precision, "
        "updated_at timestamptz, _extra jsonb, _batch_id text not null, _extracted_at timestamptz not null, "
        "_source text not null, _row_hash text)",
    )
    execute(
        settings,
        "insert into raw.probe__readings values ('S1', :t, 'A', 1.0, null, null, 'old', :t, 'probe', 'x')",
        t=T0,
    )
    execute(settings, "create index probe__readings___row_hash on raw.probe__readings (_row_hash)")
    result = batches.load([reading("S1", 0, 1.0), reading("S1", 1, 2.0)])
    assert (result["rows"], result["unchanged"]) == (1, 1)
    assert count(settings, "select count(*) from raw.probe__readings where _row_key is null") == 0
    indexes = column(settings, "select indexname from pg_indexes where tablename = 'probe__readings' order by 1")
    assert indexes == ["probe__readings__extracted_at", "probe__readings__row_key"]
