"""Bounds on what a source may send, per source (``limits:`` in ``sources.yml``).

Nothing that arrives is trusted to be the size it claims: every connector reads
within these bounds and refuses the page or file that exceeds one, naming it,
instead of letting one hostile input take unbounded memory or time.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from edp.errors import DataRejected

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # Bytes of one HTTP response body (a page, a CAP message, a WFS answer).
    max_body_bytes: int = 32 * MB
    # Records one page may hold; a page answering more than it was asked for is refused.
    max_page_records: int = 5000
    # Bytes of one dropped file (CSV, workbook, marker) before it is opened.
    max_file_bytes: int = 64 * MB
    # Rows and columns one workbook sheet may declare or hold (read in streaming mode).
    max_sheet_rows: int = 200_000
    max_sheet_columns: int = 200
    # Records one file (CSV drop, workbook sheet) may hold.
    max_file_records: int = 500_000
    # Bytes a workbook (.xlsx, a zip) may unzip to, summed over its parts, checked before it is opened
    # (a zip bomb: a few hundred KB inflating to gigabytes). Its shared strings, held in memory whole,
    # may take a quarter of it.
    max_unzipped_bytes: int = 128 * MB

    @classmethod
    def from_config(cls, raw: dict[str, Any] | None) -> Limits:
        """Defaults overridden by ``sources.yml``; an unknown key or a non-positive value is refused."""
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown limit(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, int] = {}
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"limit {key} must be a positive integer, got {value!r}")
            values[key] = value
        return cls(**values)


class PageTooLarge(DataRejected):
    """A page answered more records than were asked for (or than ``max_page_records``): not loaded."""


def check_page(records: int, asked: int | None, limits: Limits, where: str) -> None:
    """Refuse a page holding more records than asked for or than the source's ``max_page_records``.

    A cursor page cannot be skipped safely (the next page's cursor would pass
    the records it held), so the caller lets this stop the dataset's run.
    """
    bound = limits.max_page_records if asked is None else min(asked, limits.max_page_records)
    if records > bound:
        why = (
            f"{asked} were asked for"
            if asked is not None and asked <= limits.max_page_records
            else (f"the limit is max_page_records={limits.max_page_records}")
        )
        raise PageTooLarge(f"{where}: answered {records} records where {why}; the page was refused, not loaded")
