"""The transport cursor: read every change once though many share one ``updated_at``.

The bureau lists records by (``updated_at``, id) and filters with
``updated_since``, which is INCLUSIVE (``updated_at >= updated_since``; the
stand-in implements it so). Several records routinely share one
``updated_at`` (a sync or a batch import stamps them all with one second), so
a time alone cannot say where a run stopped.

What is stored (``ops.source_state.cursor``), after a run that ended on the
group of records stamped ``T``::

    <T, ISO 8601 in +08:00 with microseconds>|<n, 9 digits>|<h, 16 hex>|<X>

``n`` is the number of distinct ids read with ``updated_at == T``, ``h`` a
SHA-256 digest of those ids (sorted) and ``X`` the largest of them, so
(``T``, ``X``) is the pair of the last record read. The next run requests
``updated_since=T`` and applies, in the bureau's order:

1. Records with ``updated_at == T`` form the leading group. If their distinct
   ids are exactly the ``n`` ids digested in ``h`` (all of them ``<= X``), they
   are the records already loaded: they are dropped, i.e. every record with
   (``updated_at``, id) ``<=`` (``T``, ``X``) is dropped.
2. If the group differs (a record was added to ``T`` after the last run, with
   an id below or above ``X``, or one left it), the whole group is passed on:
   the load stores only rows whose content is not in raw yet, so nothing is
   repeated in raw and nothing is skipped. A plain (``T``, ``X``) pair would
   silently skip a record joining ``T`` with an id below ``X``.
3. Records after the group are passed on; reading stops at the first record
   with ``updated_at`` after ``until`` (the run's data interval), which the
   next run reads.
4. A record without a usable id or ``updated_at`` cannot be placed: it is
   passed on (and quarantined by the typing) and never moves the cursor.
   A record stamped before ``T`` (the API should not send one) is passed on.

A change that keeps both its record's ``updated_at`` and the set of ids at
that stamp (an edit within the very second already read) is invisible to any
``updated_at`` cursor; the bureau's stamps make that a same-second race.

Ids compare as Python strings (code points). The string form sorts like
(``T``, ``n``), which is what the platform's never-backwards check compares:
``T`` is fixed width, a group only grows at the same ``T``, and a record
leaving it moves to a later ``T``. If the bureau's ``updated_since`` turns out
exclusive, set the option ``since_exclusive`` and the request goes one second
earlier, so the group at ``T`` is read again.

A dropped record shifts the record index in quarantine locators: ``record i``
counts the records passed on from that page, not the page's ``data`` array.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.schema import LOCAL_TZ, parse_time

_SEP = "|"


def group_digest(ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(ids))).encode("utf-8", "backslashreplace")).hexdigest()[:16]


@dataclass(frozen=True)
class Cursor:
    updated_at: datetime
    count: int
    digest: str
    last_id: str

    def encode(self) -> str:
        stamp = self.updated_at.astimezone(LOCAL_TZ).isoformat(timespec="microseconds")
        return _SEP.join((stamp, f"{self.count:09d}", self.digest, self.last_id))

    @classmethod
    def decode(cls, text: str) -> Cursor:
        parts = text.split(_SEP, 3)
        try:
            if len(parts) != 4 or not parts[1].isdigit() or len(parts[2]) != 16 or not parts[3]:
                raise ValueError
            return cls(parse_time(parts[0]), int(parts[1]), parts[2], parts[3])
        except ValueError:
            raise ValueError(
                f"transport: stored cursor {text!r} is not '<updated_at>|<count>|<digest>|<last id>'"
            ) from None

    @classmethod
    def of_group(cls, updated_at: datetime, ids: Iterable[str]) -> Cursor:
        unique = set(ids)
        return cls(updated_at, len(unique), group_digest(unique), max(unique))


def placement(record: Any, key: str) -> tuple[datetime, str] | None:
    """(updated_at, id) of a record, or None when it cannot be placed in the order."""
    if not isinstance(record, dict):
        return None
    ident = record.get(key)
    if isinstance(ident, bool) or ident is None or str(ident).strip() == "":
        return None
    try:
        return parse_time(record.get("updated_at")), str(ident)
    except (ValueError, TypeError):
        return None


@dataclass
class _Group:
    """The ids seen with the latest ``updated_at`` so far."""

    at: datetime | None = None
    ids: set[str] = field(default_factory=set)

    def add(self, at: datetime, ident: str) -> None:
        if self.at is None or at > self.at:
            self.at, self.ids = at, {ident}
        elif at == self.at:
            self.ids.add(ident)


class CursorRule:
    """Applies a stored cursor to one run's answer, page by page, in the bureau's order."""

    def __init__(self, key: str, stored: Cursor | None, until: datetime) -> None:
        self.key = key
        self.stored = stored
        self.until = until
        self._seen = _Group()
        self._drop: set[str] = set()
        self.decided = stored is None
        self.dropped = 0

    def reached_past_group(self, records: list[Any]) -> bool:
        """While deciding: has this page a record stamped after the stored ``T``?"""
        assert self.stored is not None
        return any((p := placement(r, self.key)) is not None and p[0] > self.stored.updated_at for r in records)

    def decide(self, records: Iterable[Any]) -> None:
        """Look at the leading group (all of it, possibly over several pages) and settle rule 1 or 2."""
        assert self.stored is not None
        group = {p[1] for r in records if (p := placement(r, self.key)) is not None and p[0] == self.stored.updated_at}
        unchanged = len(group) == self.stored.count and group_digest(group) == self.stored.digest
        self._drop = group if unchanged else set()
        self.decided = True

    def select(self, records: list[Any]) -> tuple[list[Any], bool]:
        """The records to pass on from one page, and whether ``until`` was reached (stop reading)."""
        assert self.decided
        passed = []
        for record in records:
            place = placement(record, self.key)
            if place is None:
                passed.append(record)
                continue
            at, ident = place
            if at > self.until:
                return passed, True
            self._seen.add(at, ident)
            if self.stored is not None and at == self.stored.updated_at and ident in self._drop:
                self.dropped += 1
                continue
            passed.append(record)
        return passed, False

    def cursor(self) -> Cursor | None:
        """The cursor after everything selected so far (None: nothing placeable was read)."""
        if self._seen.at is None:
            return None
        return Cursor.of_group(self._seen.at, self._seen.ids)
