"""Dataset declarations and record typing shared by every connector."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pyarrow as pa

from edp.errors import DataRejected

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

FieldType = Literal["text", "int", "float", "bool", "timestamptz", "date", "json"]

PG_TYPES: dict[str, str] = {
    "text": "text",
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
    "timestamptz": "timestamptz",
    "date": "date",
    "json": "jsonb",
}
ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),
}
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_extra", "jsonb"),
    ("_batch_id", "text not null"),
    ("_extracted_at", "timestamptz not null"),
    ("_source", "text not null"),
    # A hash of the key (NULL-safe), set by the loader: what raw's index finds a key's versions by.
    ("_row_key", "bigint"),
)
# Raw tables from before the loader compared versions field by field also hold ``_row_hash text`` (unused now).


class FieldError(DataRejected, ValueError):
    """A value that does not fit its declared field."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"field {field_name!r}: {reason}")
        self.field_name = field_name
        self.reason = reason


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType = "text"
    required: bool = False
    pii: bool = False
    description: str = ""


# 所属辖区代码: the column the weather stations, the police files and the bureau's
# division facts all key on (one of 海城市's 12-digit division codes).
DIVISION_CODE_DESCRIPTION = "所属辖区代码 12-digit division code"
DIVISION_CODE = Field("division_code", "text", required=True, description=DIVISION_CODE_DESCRIPTION)


@dataclass(frozen=True)
class Dataset:
    """What a source offers: its fields, key and how it is read."""

    source: str
    name: str
    title: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    # incremental: read since a cursor; snapshot: the whole dataset each pull.
    mode: Literal["incremental", "snapshot"] = "incremental"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return f"{self.source}__{self.name}"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def arrow_schema(self) -> pa.Schema:
        cols = [pa.field(f.name, ARROW_TYPES[f.type]) for f in self.fields]
        cols.append(pa.field("_extra", pa.string()))
        return pa.schema(cols)

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"name": f.name, "type": f.type, "required": f.required, "pii": f.pii, "description": f.description}
            for f in self.fields
        ]


def parse_time(value: Any) -> datetime:
    """ISO 8601 or the departments' local formats; naive means Asia/Shanghai."""
    dt: datetime | None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        dt = None
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for fmt in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S"):
                try:
                    dt = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if dt is None:
            raise ValueError(f"not a time: {text!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=LOCAL_TZ)
    return dt.astimezone(UTC)


# What PostgreSQL's bigint holds; a larger integer would fail the whole load, not one record.
_INT_RANGE = (-(2**63), 2**63 - 1)
# Numbers as text in ASCII digits only: Python's int()/float() would also take "1_000", "١٢" or "infinity".
_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
_DECIMAL = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")


def _coerce_text(value: Any) -> str:
    """Text as sent: a string, or a number's exact digits; a structure is never ``str()``'d into text."""
    if isinstance(value, bool):
        raise ValueError(f"a boolean ({value!r}) is not text")
    if isinstance(value, dict | list | tuple | set):
        raise ValueError(f"a JSON {'object' if isinstance(value, dict) else 'array'} is not text")
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("bytes that are not UTF-8 are not text") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    if isinstance(value, datetime | date | time):
        text = value.isoformat()
    elif isinstance(value, str | int | float | Decimal):
        text = str(value)
    else:
        raise ValueError(f"a {type(value).__name__} is not text")
    if "\x00" in text:
        raise ValueError("contains a NUL character, which text cannot hold")
    _check_utf8(text)
    return text


def _check_utf8(text: str) -> None:
    # A JSON "\ud800" escape arrives as a lone surrogate, which no UTF-8 column (Parquet, PostgreSQL) can hold.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (an invalid \\u escape), which is not text") from None


def _coerce_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"not a number: {_brief(value)}")
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError(f"not a number: {_brief(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"not a finite number: {_brief(value)}") from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"not a finite number: {_brief(value)}")
    return number


def _coerce_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"not an integer: {_brief(value)}")
    if isinstance(value, float | Decimal):
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"not an integer: {_brief(value)}")
        number = int(value)
    elif isinstance(value, str):
        if not _INTEGER.fullmatch(value):
            raise ValueError(f"not an integer: {_brief(value)}")
        number = int(value.strip())
    else:
        number = value
    if not _INT_RANGE[0] <= number <= _INT_RANGE[1]:
        raise ValueError(f"integer {_brief(value)} is outside the 64-bit range")
    return number


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if not isinstance(value, int | str):
        raise ValueError(f"not a boolean: {_brief(value)}")
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "是", "y", "t"):
        return True
    if text in ("false", "0", "no", "否", "n", "f"):
        return False
    raise ValueError(f"not a boolean: {_brief(value)}")


def _coerce_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a date: {_brief(value)}")
    return date.fromisoformat(value.strip().replace("/", "-"))


def _coerce_time(value: Any) -> datetime:
    if not isinstance(value, str | datetime):
        raise ValueError(f"not a time: {_brief(value)}")
    try:
        return parse_time(value)
    except OverflowError:
        raise ValueError(f"time {_brief(value)} is out of range") from None


def _json_default(value: Any) -> Any:
    """Values a driver or workbook hands over that JSON spells exactly; anything else is refused."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    raise TypeError(f"a {type(value).__name__} has no JSON form")


def _coerce_json(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not representable as JSON: {exc}") from None
    if "\\u0000" in text:
        raise ValueError("contains a NUL character, which jsonb cannot hold")
    _check_utf8(text)
    return text


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_COERCERS = {
    "text": _coerce_text,
    "int": _coerce_int,
    "float": _coerce_float,
    "bool": _coerce_bool,
    "timestamptz": _coerce_time,
    "date": _coerce_date,
    "json": _coerce_json,
}


def coerce(f: Field, value: Any) -> Any:
    """The value in the field's type, or FieldError naming field and reason."""
    if value is None or (isinstance(value, str) and value.strip() == "" and f.type != "text"):
        if f.required:
            raise FieldError(f.name, "required value is missing")
        return None
    try:
        return _COERCERS[f.type](value)
    except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
        raise FieldError(f.name, f"expected {f.type}: {exc}") from None


def type_record(ds: Dataset, record: dict[str, Any]) -> dict[str, Any]:
    """Typed row with unknown keys gathered in ``_extra``; raises FieldError."""
    row = {f.name: coerce(f, record.get(f.name)) for f in ds.fields}
    known = set(ds.field_names)
    extra = {k: v for k, v in record.items() if k not in known}
    row["_extra"] = _coerce_extra(extra) if extra else None
    return row


def _coerce_extra(extra: dict[str, Any]) -> str:
    """Undeclared keys as jsonb: a value jsonb cannot hold (NaN, a NUL) refuses the record, never the load."""
    try:
        return _coerce_json(extra)
    except ValueError as exc:
        raise FieldError("_extra", f"undeclared field(s) {', '.join(sorted(extra))} {exc}") from None
