from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.schema import Dataset, Field, FieldError, coerce, parse_time, type_record


def test_naive_local_times_are_asia_shanghai() -> None:
    assert parse_time("2026-11-28 13:05:22") == datetime(2026, 11, 28, 5, 5, 22, tzinfo=UTC)
    assert parse_time("2026/11/28 13:05") == datetime(2026, 11, 28, 5, 5, tzinfo=UTC)
    assert parse_time("2026-11-28T13:00:00+08:00") == datetime(2026, 11, 28, 5, 0, tzinfo=UTC)


def test_bad_time_names_the_field() -> None:
    with pytest.raises(FieldError) as err:
        coerce(Field("obs_time", "timestamptz", required=True), "not-a-time")
    assert err.value.field_name == "obs_time"
    assert "not-a-time" in str(err.value)


def test_required_missing_and_optional_empty() -> None:
    with pytest.raises(FieldError, match="required"):
        coerce(Field("station_id", "text", required=True), None)
    assert coerce(Field("temp_c", "float"), "") is None


@pytest.mark.parametrize("value", ["abc", True, float("nan")])
def test_float_rejects_non_numbers(value: object) -> None:
    with pytest.raises(FieldError):
        coerce(Field("temp_c", "float"), value)


def test_unknown_keys_are_kept_in_extra() -> None:
    ds = Dataset("s", "d", "t", (Field("a", "int", required=True),), ("a",))
    row = type_record(ds, {"a": "7", "new_col": 1})
    assert row["a"] == 7
    assert row["_extra"] == '{"new_col": 1}'
