"""Fixtures shared by the connector tests: what the platform wrote, scanned for leaks."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from edp.settings import Settings
from edp.storage.lake import open_lake
from edp.storage.warehouse import engine


def platform_text(settings: Settings) -> str:
    """Everything the platform wrote: lake objects (unzipped, Parquet as rows) and every warehouse table."""
    lake = open_lake(settings)
    parts = []
    for key in lake.list(""):
        data = lake.get_bytes(key)
        if key.endswith(".gz"):
            data = gzip.decompress(data)
        if key.endswith(".parquet"):
            parts.append(json.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), ensure_ascii=False, default=str))
        else:
            parts.append(data.decode("utf-8", errors="replace"))
    with engine(settings).connect() as c:
        tables = c.execute(
            sa.text(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('raw', 'ops') and table_type = 'BASE TABLE'"
            )
        ).all()
        for schema, table in tables:
            rows = c.execute(sa.text(f'select row_to_json(t)::text from {schema}."{table}" t')).scalars().all()
            parts.extend(rows)
    return "\n".join(parts)


@pytest.fixture
def leak_scan() -> Callable[[Settings, list[str], str], list[str]]:
    """The clear values found in the lake, the warehouse or the given log text."""

    def scan(settings: Settings, clear: list[str], logs: str) -> list[str]:
        text = platform_text(settings) + "\n" + logs
        return sorted({value for value in clear if value and value in text})

    return scan


@pytest.fixture
def count() -> Callable[[Settings, str], int]:
    def run(settings: Settings, sql: str) -> int:
        with engine(settings).connect() as c:
            return int(c.execute(sa.text(sql)).scalar_one())

    return run
