"""Shared pieces of the property-based (hypothesis) parser tests: hostile values and the typing check.

Every fuzz test ends the same way: the records a connector produced go through the shared typing
(``edp.ingest.extract.type_page``, what an ingest does), and then nothing escaped but the documented
errors, every record is accounted for (loaded, quarantined or a duplicate), every quarantine entry names
page, index and field with a reason, and the known-good records of the same input were loaded.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from connectors.base import Page, Source
from connectors.schema import Dataset
from edp.ingest.extract import _Typed, type_page

# Small, fast, reproducible: the suite's budget is minutes, and a failure must replay the same way.
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# Text a hostile source sends: NUL and control characters, formula-like and very long strings.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["\x00", "a\x00b", "\ud800", "=cmd|' /C calc'!A0", "NaN", "Infinity", "1e999", "1_000", "١٢", "", "   ", "null"]
    ),
    st.text(alphabet="0123456789.-+eE:TZ/ ", max_size=30),
    st.builds(lambda n: "长" * n, st.integers(1000, 20_000)),
)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
# Nested objects and arrays: what "a JSON object in a text field" looks like.
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def type_records(src: Source, ds: Dataset, records: list[Any], landing_key: str = "landing/fuzz/page-00001.json.gz"):
    """The records typed as an ingest types them; returns the batch so far (rows, quarantined, counts)."""
    typed = _Typed()
    type_page(src, ds, Page(b"", "application/json", records, landing_key), landing_key, typed)
    return typed


def assert_accounted(typed: _Typed, count: int, landing_key: str = "landing/fuzz/page-00001.json.gz") -> None:
    """Every record loaded, quarantined or a duplicate; every quarantine entry names page, index, field, reason."""
    assert typed.source_rows == count
    assert len(typed.rows) + len(typed.quarantined) + typed.duplicates == count
    for entry in typed.quarantined:
        assert entry["locator"].startswith(f"{landing_key} record "), entry
        assert entry["locator"].rsplit(" ", 1)[1].isdigit(), entry
        assert entry["reason"], entry
        assert entry["field"] or entry["reason"] == "record is not an object", entry
    for row in typed.rows.values():
        for value in row.values():
            assert not (isinstance(value, float) and not math.isfinite(value)), row
            assert not (isinstance(value, str) and "\x00" in value), row


def quarantined_indexes(typed: _Typed) -> set[int]:
    return {int(q["locator"].rsplit(" ", 1)[1]) for q in typed.quarantined}
