"""Quarantined records: summary and replay after a fix.

Replay re-runs each open record through the source's current normalisation
and typing; those that pass become a new batch (lake + raw, origin
``replay``), the rest stay quarantined with their new reason.

A file refused whole (``connectors.files.REFUSED``: a missing column, a corrupt
workbook, a bad marker, a link, a file over its limit) left no content to
replay: its entry is closed once a replacement of the same file has been
loaded into raw after it was quarantined (``replay_batch_id`` names that
batch); until then it stays open, its reason saying to replace the file.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from connectors.base import Page
from connectors.files import REFUSED
from edp.ingest.extract import _Typed, make_batch_id, register, type_page, write_batch
from edp.ingest.loader import load_batch
from edp.ingest.sources import build_source
from edp.settings import Settings
from edp.storage.lake import open_lake
from edp.storage.migrate import require_current
from edp.storage.warehouse import engine


def summary(settings: Settings, source: str | None = None) -> list[dict[str, Any]]:
    require_current(settings)
    with engine(settings).connect() as c:
        rows = c.execute(
            sa.text(
                """
                select source, dataset, coalesce(field, '-') as field, reason, count(*) as records,
                       min(quarantined_at) as first_at, max(quarantined_at) as last_at
                from ops.quarantine
                where replayed_at is null and (cast(:s as text) is null or source = :s)
                group by 1, 2, 3, 4 order by 1, 2, records desc
                """
            ),
            {"s": source},
        )
        return [dict(r._mapping) for r in rows]


def replay(settings: Settings, source: str) -> dict[str, Any]:
    require_current(settings)
    lake = open_lake(settings)
    src = build_source(settings, source)
    with engine(settings).connect() as c:
        open_rows = c.execute(
            sa.text(
                "select quarantine_id, dataset, locator, record, quarantined_at from ops.quarantine "
                "where source=:s and replayed_at is null order by quarantine_id"
            ),
            {"s": source},
        ).all()
    by_dataset: dict[str, list[Any]] = defaultdict(list)
    for row in open_rows:
        by_dataset[row.dataset].append(row)
    result: dict[str, Any] = {"source": source, "datasets": {}}
    try:
        for name, rows in by_dataset.items():
            result["datasets"][name] = _replay_dataset(settings, lake, src, name, rows)
    finally:
        src.close()
    return result


def _replaced_by(settings: Settings, table: str, row: Any) -> str | None:
    """The batch that loaded a replacement of the refused file of quarantine ``row``, if any."""
    refused = row.record.get(REFUSED) if isinstance(row.record, dict) else None
    if not isinstance(refused, dict) or not refused.get("file"):
        return None
    with engine(settings).connect() as c:
        if c.execute(sa.text("select to_regclass(:t)"), {"t": f"raw.{table}"}).scalar() is None:
            return None
        columns: set[str] = set(
            c.execute(
                sa.text(
                    "select column_name from information_schema.columns where table_schema='raw' and table_name=:t"
                ),
                {"t": table},
            ).scalars()
        )
        if "source_file" not in columns:
            return None
        found = c.execute(
            sa.text(
                f'select _batch_id from raw."{table}" where source_file = :f and _extracted_at > :at '
                "order by _extracted_at desc limit 1"
            ),
            {"f": refused["file"], "at": row.quarantined_at},
        ).scalar()
    return str(found) if found else None


def _close_replaced(settings: Settings, table: str, rows: list[Any]) -> tuple[list[Any], int]:
    """Close the entries of refused files since replaced and loaded; the rest, and how many were closed."""
    rest, closed = [], 0
    for row in rows:
        batch = _replaced_by(settings, table, row)
        if batch is None:
            rest.append(row)
            continue
        with engine(settings).begin() as c:
            c.execute(
                sa.text("update ops.quarantine set replayed_at=now(), replay_batch_id=:b where quarantine_id=:q"),
                {"b": batch, "q": row.quarantine_id},
            )
        closed += 1
    return rest, closed


def _replay_dataset(settings: Settings, lake: Any, src: Any, name: str, rows: list[Any]) -> dict[str, int]:
    ds = src.datasets()[name]
    rows, replaced = _close_replaced(settings, ds.table, rows)
    if not rows:
        return {"replayed": 0, "still_quarantined": 0, "rows": 0, "files_replaced": replaced}
    now = datetime.now(UTC)
    batch_id = make_batch_id(ds.source, ds.name, now, "replay:" + ",".join(str(r.quarantine_id) for r in rows))
    typed = _Typed()
    page = Page(b"", "application/json", [r.record for r in rows], "quarantine replay")
    type_page(src, ds, page, f"replay of quarantine ids {rows[0].quarantine_id}..{rows[-1].quarantine_id}", typed)
    # type_page gives each entry its record's index in the page: map back to quarantine ids.
    still_bad = {rows[int(q["index"])].quarantine_id: q for q in typed.quarantined}
    typed.quarantined = []  # those stay where they are, with a fresh reason
    manifest = write_batch(
        lake, ds, batch_id, now, typed, origin="replay", cursor_from=None, cursor_to=None, landing_keys=[]
    )
    register(settings, manifest)
    load_batch(settings, manifest, lake)
    with engine(settings).begin() as c:
        for row in rows:
            bad = still_bad.get(row.quarantine_id)
            if bad:
                c.execute(
                    sa.text("update ops.quarantine set reason=:r, field=:f where quarantine_id=:q"),
                    {"r": bad["reason"], "f": bad["field"], "q": row.quarantine_id},
                )
            else:
                c.execute(
                    sa.text("update ops.quarantine set replayed_at=now(), replay_batch_id=:b where quarantine_id=:q"),
                    {"b": batch_id, "q": row.quarantine_id},
                )
    return {
        "replayed": len(rows) - len(still_bad),
        "still_quarantined": len(still_bad),
        "rows": manifest.row_count,
        "files_replaced": replaced,
    }
