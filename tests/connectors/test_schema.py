from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

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


# -- no silent coercion: a value the field's type cannot hold faithfully is refused, naming field and reason --


@pytest.mark.parametrize(
    ("type_", "value", "reason"),
    [
        ("text", {"a": 1}, "a JSON object is not text"),
        ("text", [1, 2], "a JSON array is not text"),
        ("text", True, "a boolean (True) is not text"),
        ("text", "a\x00b", "NUL"),
        ("text", b"\xff\xfe", "not UTF-8"),
        ("text", float("inf"), "not a finite number"),
        ("int", 1.5, "not an integer"),
        ("int", Decimal("2.5"), "not an integer"),
        ("int", float("inf"), "not an integer"),
        ("int", 2**63, "outside the 64-bit range"),
        ("int", "9" * 30, "outside the 64-bit range"),
        ("int", {"n": 1}, "not an integer"),
        ("float", float("nan"), "not a finite number"),
        ("float", "-inf", "not a number"),
        ("float", "1_0.5", "not a number"),
        ("int", "1_000", "not an integer"),
        ("int", "١٢", "not an integer"),
        ("text", "a\ud800", "lone surrogate"),
        ("json", {"x": "\udfff"}, "lone surrogate"),
        ("float", 10**400, "not a finite number"),
        ("float", [1.0], "not a number"),
        ("timestamptz", "0001-01-01T00:00:00+08:00", "out of range"),
        ("timestamptz", 20261128130000, "not a time"),
        ("timestamptz", {"t": "2026-11-28"}, "not a time"),
        ("date", "2026-02-30", "expected date"),
        ("date", 20260228, "not a date"),
        ("bool", {"yes": True}, "not a boolean"),
        ("json", {"x": float("nan")}, "not representable as JSON"),
        ("json", {"x": "a\x00b"}, "NUL"),
        ("json", {1, 2}, "not representable as JSON"),
    ],
)
def test_values_that_cannot_be_held_faithfully_are_refused(type_: str, value: object, reason: str) -> None:
    with pytest.raises(FieldError, match=re.escape(reason)) as err:
        coerce(Field("v", type_), value)  # type: ignore[arg-type]
    assert err.value.field_name == "v"


def test_faithful_values_pass_unchanged() -> None:
    assert coerce(Field("v", "text"), 12) == "12"
    assert coerce(Field("v", "text"), Decimal("1.50")) == "1.50"
    assert coerce(Field("v", "text"), date(2026, 11, 28)) == "2026-11-28"
    assert coerce(Field("v", "int"), 3.0) == 3
    assert coerce(Field("v", "int"), Decimal("7")) == 7
    assert coerce(Field("v", "float"), Decimal("0.05")) == 0.05
    assert (
        coerce(Field("v", "json"), {"d": Decimal("1.5"), "at": date(2026, 1, 2)}) == '{"at": "2026-01-02", "d": "1.5"}'
    )


def test_a_json_object_in_a_text_field_is_quarantined_not_stringified() -> None:
    ds = Dataset("s", "d", "t", (Field("id", "text", required=True), Field("note", "text")), ("id",))
    with pytest.raises(FieldError) as err:
        type_record(ds, {"id": "1", "note": {"level": "red"}})
    assert (err.value.field_name, err.value.reason) == ("note", "expected text: a JSON object is not text")


def test_undeclared_values_jsonb_cannot_hold_refuse_the_record() -> None:
    ds = Dataset("s", "d", "t", (Field("id", "text", required=True),), ("id",))
    with pytest.raises(FieldError) as err:
        type_record(ds, {"id": "1", "extra": float("nan")})
    assert err.value.field_name == "_extra" and "extra" in err.value.reason
    assert type_record(ds, {"id": "1", "extra": [1, {"a": None}]})["_extra"] == '{"extra": [1, {"a": null}]}'
