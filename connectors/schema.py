"""Dataset declarations and record typing shared by every connector."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
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


def _coerce_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _coerce_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"not an integer: {value!r}")
    return int(str(value).strip()) if isinstance(value, str) else int(value)


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "是", "y", "t"):
        return True
    if text in ("false", "0", "no", "否", "n", "f"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _coerce_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip().replace("/", "-"))


_COERCERS = {
    "text": lambda v: str(v),
    "int": _coerce_int,
    "float": _coerce_float,
    "bool": _coerce_bool,
    "timestamptz": parse_time,
    "date": _coerce_date,
    "json": lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True),
}


def coerce(f: Field, value: Any) -> Any:
    """The value in the field's type, or FieldError naming field and reason."""
    if value is None or (isinstance(value, str) and value.strip() == "" and f.type != "text"):
        if f.required:
            raise FieldError(f.name, "required value is missing")
        return None
    try:
        return _COERCERS[f.type](value)
    except (TypeError, ValueError) as exc:
        raise FieldError(f.name, f"expected {f.type}: {exc}") from None


def type_record(ds: Dataset, record: dict[str, Any]) -> dict[str, Any]:
    """Typed row with unknown keys gathered in ``_extra``; raises FieldError."""
    row = {f.name: coerce(f, record.get(f.name)) for f in ds.fields}
    known = set(ds.field_names)
    extra = {k: v for k, v in record.items() if k not in known}
    row["_extra"] = json.dumps(extra, ensure_ascii=False, sort_keys=True, default=str) if extra else None
    return row
