"""Reading the platform's warehouse in assertions: one statement, one answer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from edp.settings import Settings
from edp.storage.warehouse import engine


def scalar(settings: Settings, sql: str, **params: Any) -> Any:
    """The one value ``sql`` returns."""
    with engine(settings).connect() as c:
        return c.execute(sa.text(sql), params).scalar_one()


def count(settings: Settings, sql: str, **params: Any) -> int:
    """The one number ``sql`` returns (a ``select count(*) ...``)."""
    return int(scalar(settings, sql, **params))


def column(settings: Settings, sql: str, **params: Any) -> list[Any]:
    """The first column of every row."""
    with engine(settings).connect() as c:
        return list(c.execute(sa.text(sql), params).scalars())


def rows(settings: Settings, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Every row as a dict."""
    with engine(settings).connect() as c:
        return [dict(r) for r in c.execute(sa.text(sql), params).mappings()]


def execute(settings: Settings, sql: str, **params: Any) -> list[sa.Row[Any]]:
    """Run ``sql`` in its own transaction; the rows it returns, if any."""
    with engine(settings).begin() as c:
        result = c.execute(sa.text(sql), params)
        return list(result) if result.returns_rows else []


def repeated_keys(settings: Settings, table: str, *key: str) -> int:
    """How many values of ``key`` (columns) ``table`` holds more than once."""
    columns = ", ".join(key)
    return count(
        settings, f"select count(*) from (select {columns} from {table} group by {columns} having count(*) > 1) d"
    )


def identical_versions(settings: Settings, table: str, fields: tuple[str, ...]) -> int:
    """How many rows of ``table`` repeat another row in every one of ``fields`` (a version stored twice)."""
    return repeated_keys(settings, table, *(f'"{f}"' for f in fields))


def hazard_event_mart(settings: Settings, n: int) -> None:
    """``marts.fct_hazard_event`` with ``n`` rain events, replaced: a mart to sync without running dbt."""
    with engine(settings).begin() as c:
        c.execute(sa.text("drop table if exists marts.fct_hazard_event"))
        c.execute(
            sa.text(
                "create table marts.fct_hazard_event (event_id text primary key, source text, category_code text, "
                "occurred_at timestamptz, division_code text, severity text, description text)"
            )
        )
        c.execute(
            sa.text(
                "insert into marts.fct_hazard_event select 'weather-rain-' || g, 'weather', '11B03', "
                "timestamptz '2026-11-28 14:00+08' + g * interval '1 minute', '210381101000', 'blue', "
                "'海城河 降水 ' || g || ' mm' from generate_series(1, :n) g"
            ),
            {"n": n},
        )
