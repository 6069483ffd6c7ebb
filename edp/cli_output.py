"""What a command reports, as a table or as JSON (输出格式): the same fields in both.

``emit(data, fmt)`` prints ``data`` (JSON-able: dicts, lists, scalars) on stdout. ``fmt`` is ``table``,
``json`` or ``None``: a table on a terminal, JSON otherwise (a pipe, a file, a script). Tables:

- a list of dicts is one table, a column per key (every key of every row, in first-seen order);
- a dict of dicts (per dataset, per source) is one table, its keys in the first column;
- any other dict is a key/value table; its values that are lists of dicts follow as tables of their own;
- a nested value inside a cell is shown compactly (``a=1, b=2``; a list as its items).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any, TextIO

import typer


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


# One option for every command that reports.
FormatOption = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        case_sensitive=False,
        help="table or json (输出格式); default: a table on a terminal, JSON otherwise. Same fields in both.",
    ),
]

# Width of a table written to a pipe or file (a terminal uses its own): wide enough to keep rows on one line.
PIPE_WIDTH = 240


def resolve(fmt: OutputFormat | str | None, stream: TextIO | None = None) -> OutputFormat:
    """The format to use: the one asked for, else table on a terminal and JSON otherwise."""
    if fmt is not None:
        return OutputFormat(fmt)
    stream = stream or sys.stdout
    return OutputFormat.table if stream.isatty() else OutputFormat.json


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def emit(data: Any, fmt: OutputFormat | str | None = None, *, title: str | None = None) -> None:
    """Print ``data`` on stdout in ``fmt`` (see the module's docstring)."""
    if resolve(fmt) is OutputFormat.json:
        typer.echo(to_json(data))
        return
    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else PIPE_WIDTH, soft_wrap=False)
    for renderable in renderables(_plain(data), title):
        console.print(renderable)


def _plain(data: Any) -> Any:
    """``data`` as JSON would carry it (dates, decimals, paths as text): both formats show the same values."""
    return json.loads(to_json(data))


def cell(value: Any) -> str:
    """A value inside a table cell: scalars as themselves, nested values compactly."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list):
        return "; ".join(cell(v) for v in value) or "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def renderables(data: Any, title: str | None = None) -> list[Any]:
    """The rich objects that show ``data``: tables, or a line of text for a scalar."""
    from rich.text import Text

    if _is_rows(data):
        return [rows_table(data, title)]
    if isinstance(data, dict):
        if data and all(isinstance(v, dict) for v in data.values()):
            return [rows_table([{"name": k, **v} for k, v in data.items()], title)]
        scalars = {k: v for k, v in data.items() if not _is_rows(v)}
        out: list[Any] = [key_value_table(scalars, title)] if scalars or not data else []
        out += [rows_table(v, k) for k, v in data.items() if _is_rows(v)]
        return out
    if isinstance(data, list):
        if not data:
            return [Text("(none 无)")]
        return [rows_table([{"value": v} for v in data], title)]
    return [Text(cell(data))]


def rows_table(rows: list[dict[str, Any]], title: str | None = None) -> Any:
    from rich.table import Table

    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    table = Table(*columns, title=title, title_justify="left", show_lines=False)
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in columns))
    return table


def key_value_table(data: dict[str, Any], title: str | None = None) -> Any:
    from rich.table import Table

    table = Table("field 字段", "value 值", title=title, title_justify="left")
    for key, value in data.items():
        table.add_row(str(key), cell(value))
    return table
