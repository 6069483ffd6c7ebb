"""What the platform wrote, as text to scan for clear personal values that must not be there."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from edp.settings import Settings
from edp.storage.lake import open_lake
from edp.storage.warehouse import engine


def lake_text(settings: Settings) -> str:
    """Every lake object as text: gzip unzipped, Parquet read back as rows, the raw bytes too."""
    lake = open_lake(settings)
    parts = []
    for key in lake.list(""):
        data = lake.get_bytes(key)
        if key.endswith(".gz"):
            data = gzip.decompress(data)
        if key.endswith(".parquet"):
            parts.append(json.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), ensure_ascii=False, default=str))
        parts.append(data.decode("utf-8", errors="replace"))
    return "\n".join(parts)


def warehouse_tables(settings: Settings) -> list[tuple[str, str]]:
    """(schema, table) of every table of the warehouse database outside the system catalogues."""
    with engine(settings).connect() as c:
        found = c.execute(
            sa.text(
                "select table_schema, table_name from information_schema.tables where table_type = 'BASE TABLE' "
                "and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2"
            )
        ).all()
    return [(schema, table) for schema, table in found]


def warehouse_text(settings: Settings) -> str:
    """Every row of every table of the warehouse database, as text."""
    parts: list[str] = []
    with engine(settings).connect() as c:
        for schema, table in warehouse_tables(settings):
            parts.extend(c.execute(sa.text(f'select t::text from "{schema}"."{table}" t')).scalars())
    return "\n".join(parts)


def log_text(settings: Settings, caplog: pytest.LogCaptureFixture) -> str:
    """What was logged: the captured records (formatted and as messages) and the log files under EDP_HOME."""
    files = [p.read_text(encoding="utf-8", errors="replace") for p in settings.home_dir.rglob("*.log")]
    return "\n".join([caplog.text, *(r.getMessage() for r in caplog.records), *files])


def platform_text(settings: Settings) -> str:
    """Everything the platform wrote: the lake and the warehouse."""
    return lake_text(settings) + "\n" + warehouse_text(settings)


def clear_values_found(settings: Settings, clear: list[Any], caplog: pytest.LogCaptureFixture) -> list[str]:
    """The clear values found in the lake, the warehouse or the logs (sorted, each once)."""
    text = platform_text(settings) + "\n" + log_text(settings, caplog)
    return sorted({value for value in clear if value and value in text})
