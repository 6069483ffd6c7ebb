"""Output formats and progress reporters, without a warehouse: tables show the JSON's fields, reporters report."""

from __future__ import annotations

import io
import json
import logging

import pytest
from rich.console import Console
from rich.progress import Progress

from edp.cli_output import OutputFormat, cell, renderables, resolve
from edp.progress import LogReporter, NullReporter, RichReporter, reporter, use


def _render(data: object) -> str:
    out = io.StringIO()
    console = Console(file=out, width=200)
    for r in renderables(json.loads(json.dumps(data))):
        console.print(r)
    return out.getvalue()


def _header(text: str) -> list[str]:
    """The column names of the first table in ``text`` (rich's header row, between ┃ bars)."""
    line = next(line for line in text.splitlines() if line.startswith("┃"))
    return [c.strip() for c in line.strip("┃").split("┃")]


def test_a_list_of_dicts_is_a_table_with_a_column_per_key() -> None:
    rows = [{"source": "weather", "rows": 12, "batches": ["a", "b"]}, {"source": "water", "rows": 3, "extra": None}]
    text = _render(rows)
    assert _header(text) == ["source", "rows", "batches", "extra"]
    assert "a; b" in text and "weather" in text and "water" in text


def test_a_dict_of_dicts_is_one_row_per_key_and_nested_values_are_compact() -> None:
    text = _render({"hazard_events": {"blocked": None, "diff": {"upsert": 3, "delete": 0}, "sent": {"sent": 1}}})
    assert _header(text) == ["name", "blocked", "diff", "sent"]
    assert "upsert=3, delete=0" in text and "hazard_events" in text


def test_a_dict_is_key_value_and_its_lists_of_rows_follow_as_tables() -> None:
    text = _render({"run_id": "r1", "success": False, "datasets": [{"dataset": "raw.a", "status": "blocked"}]})
    assert "run_id" in text and "r1" in text and "no" in text
    assert "datasets" in text and "raw.a" in text and "blocked" in text
    assert cell([]) == "-" and cell(0.123456) == "0.1235" and cell(True) == "yes"


def test_the_format_is_json_unless_asked_or_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert resolve(None, io.StringIO()) is OutputFormat.json
    assert resolve(None, Tty()) is OutputFormat.table
    assert resolve("json", Tty()) is OutputFormat.json
    with pytest.raises(ValueError):
        resolve("yaml")


def test_log_reporter_writes_start_throttled_progress_and_done(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edp.progress")
    rep = LogReporter(interval=3600)
    with rep.task("weather.observations load") as t:
        for _ in range(50):
            t.advance(rows=1000, batches=1)
        t.note("50,000 new")
    lines = [r.getMessage() for r in caplog.records]
    # Throttled: 50 advances inside the interval print nothing between the start and the end.
    assert len(lines) == 2 and lines[0] == "weather.observations load: started"
    assert lines[1].startswith("weather.observations load: done, 50,000 rows, 50 batches; 50,000 new (")
    with pytest.raises(RuntimeError), rep.task("water.levels load") as t:
        t.advance(rows=5)
        raise RuntimeError("boom")
    assert caplog.records[-1].getMessage().startswith("water.levels load: failed after 5 rows")


def test_use_puts_a_reporter_in_effect_and_rich_draws_rows_and_rate() -> None:
    assert isinstance(reporter(), LogReporter)  # the default: log lines (Airflow tasks, pipes)
    out = io.StringIO()
    rich = RichReporter(Progress(console=Console(file=out, force_terminal=True, width=120)))
    with use(rich):
        assert reporter() is rich
        with reporter().task("sync hazard_events") as t:
            t.advance(rows=1000, batches=1, accepted=998, rejected=2)
    assert isinstance(reporter(), LogReporter)
    assert "sync hazard_events" in out.getvalue()
    with use(NullReporter()):
        reporter().start("nothing").advance(rows=1)
