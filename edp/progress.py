"""Progress of long work (进度): a small protocol the library reports to, shown by whoever runs it.

Library code (extraction, the loader, the exchange sync) reports per page, per chunk or per batch,
never per row, to the reporter in effect (:func:`reporter`): by default :class:`LogReporter`, which
writes plain log lines (an Airflow task's log, a CLI run whose stderr is not a terminal). The CLI
puts a :class:`RichReporter` in effect on a terminal (rows, batches, elapsed time, rate per dataset);
:class:`NullReporter` says nothing.

    with reporter().task("weather.observations load") as t:
        for chunk in chunks:
            ...
            t.advance(rows=len(chunk), batches=1)
        t.note("12 new, 3 unchanged")
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

log = logging.getLogger("edp.progress")


@dataclass
class Task:
    """One unit of long work (a dataset's extraction, a batch's load, a dataset's sync) and its counts."""

    name: str
    reporter: Reporter
    total: int | None = None
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    message: str = ""
    started: float = field(default_factory=time.monotonic)
    handle: Any = None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def advance(self, rows: int = 0, **counts: int) -> None:
        """Add ``rows`` (the unit the rate is computed on) and named counts (batches, pages, rejected…)."""
        self.rows += rows
        for key, value in counts.items():
            self.counts[key] = self.counts.get(key, 0) + value
        self.reporter.advanced(self)

    def note(self, message: str) -> None:
        """What the task is doing now, or its outcome (shown beside the counts)."""
        self.message = message
        self.reporter.advanced(self)

    def done(self, *, failed: bool = False) -> None:
        self.reporter.done(self, failed=failed)

    def describe(self) -> str:
        parts = [f"{self.rows:,} rows", *(f"{v:,} {k}" for k, v in self.counts.items())]
        return ", ".join(parts) + (f"; {self.message}" if self.message else "")


class Reporter:
    """Where progress goes. This base class drops it (:class:`NullReporter`); subclasses show it."""

    def start(self, name: str, total: int | None = None) -> Task:
        task = Task(name, self, total)
        self.started(task)
        return task

    @contextlib.contextmanager
    def task(self, name: str, total: int | None = None) -> Iterator[Task]:
        """A task that is reported done when the block ends, failed if it raises."""
        t = self.start(name, total)
        try:
            yield t
        except BaseException:
            self.done(t, failed=True)
            raise
        self.done(t)

    def started(self, task: Task) -> None:  # a hook: subclasses override what they show
        pass

    def advanced(self, task: Task) -> None:
        pass

    def done(self, task: Task, *, failed: bool = False) -> None:
        pass


class NullReporter(Reporter):
    """Reports nothing."""


class LogReporter(Reporter):
    """Plain log lines: one at the start and the end of each task, and at most one every ``interval`` seconds
    between (a batch of millions of rows is never silent, a fast one costs two lines)."""

    def __init__(self, logger: logging.Logger | None = None, interval: float = 5.0) -> None:
        self.log = logger or log
        self.interval = interval
        self._last: dict[int, float] = {}

    def started(self, task: Task) -> None:
        self._last[id(task)] = time.monotonic()
        self.log.info("%s: started%s", task.name, f" ({task.total:,} rows)" if task.total else "")

    def advanced(self, task: Task) -> None:
        now = time.monotonic()
        if now - self._last.get(id(task), 0.0) >= self.interval:
            self._last[id(task)] = now
            self.log.info("%s: %s (%s)", task.name, task.describe(), _pace(task))

    def done(self, task: Task, *, failed: bool = False) -> None:
        self._last.pop(id(task), None)
        self.log.info("%s: %s %s (%s)", task.name, "failed after" if failed else "done,", task.describe(), _pace(task))


def _pace(task: Task) -> str:
    elapsed = task.elapsed
    rate = f", {task.rows / elapsed:,.0f} rows/s" if task.rows and elapsed > 0 else ""
    return f"{elapsed:.1f} s{rate}"


class RichReporter(Reporter):
    """A live rich progress display on a terminal (stderr): one line per task, kept when done."""

    def __init__(self, progress: Progress | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._stderr = sys.stderr  # before rich redirects it
        self.progress = progress or Progress(
            SpinnerColumn(finished_text="✓"),
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=20),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[rate]}"),
            console=Console(stderr=True),
            transient=False,
        )

    def __enter__(self) -> RichReporter:
        self.progress.start()
        # Log lines (warnings, a loader's batch line) print above the live display, not through it: rich
        # replaced sys.stderr with a proxy that does that; handlers that hold the real stderr are pointed to it.
        self._moved: list[tuple[logging.StreamHandler[Any], Any]] = []
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.__stderr__, self._stderr):
                self._moved.append((handler, handler.setStream(sys.stderr)))
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()
        for handler, stream in self._moved:
            handler.setStream(stream)

    def started(self, task: Task) -> None:
        task.handle = self.progress.add_task(task.name, total=task.total, detail="", rate="")

    def advanced(self, task: Task) -> None:
        self._update(task.handle, task)

    def done(self, task: Task, *, failed: bool = False) -> None:
        if failed:
            task.message = f"failed{': ' + task.message if task.message else ''}"
        self._update(task.handle, task)
        total = task.total if task.total is not None else max(task.rows, 1)
        self.progress.update(task.handle, total=total, completed=total if not failed else task.rows)
        self.progress.stop_task(task.handle)

    def _update(self, handle: TaskID, task: Task) -> None:
        elapsed = task.elapsed
        rate = f"{task.rows / elapsed:,.0f} rows/s" if task.rows and elapsed > 0 else ""
        self.progress.update(handle, completed=task.rows, detail=task.describe(), rate=rate)


_current: ContextVar[Reporter | None] = ContextVar("edp_progress_reporter", default=None)
_default = LogReporter()


def reporter() -> Reporter:
    """The reporter in effect: the one :func:`use` set, else log lines."""
    return _current.get() or _default


@contextlib.contextmanager
def use(rep: Reporter) -> Iterator[Reporter]:
    """Put ``rep`` in effect for the block (a :class:`RichReporter` is started and stopped with it)."""
    token = _current.set(rep)
    try:
        if isinstance(rep, RichReporter):
            with rep:
                yield rep
        else:
            yield rep
    finally:
        _current.reset(token)


def for_terminal(stream: Any = None) -> Reporter:
    """Rich progress when ``stream`` (default stderr) is a terminal, log lines otherwise."""
    stream = stream if stream is not None else sys.stderr
    return RichReporter() if stream.isatty() else LogReporter()
