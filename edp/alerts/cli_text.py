"""``edp alerts`` as text lines: one alert per line, the columns aligned, the reason last."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from edp.alerts.store import LOCAL_TZ, Alert

HEADER = ["id", "since 首次", "last seen 最近", "×", "kind 类型", "dag/task", "dataset 数据集"]


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}" if moment else "-"


def alert_lines(alerts: Sequence[Alert], *, include_resolved: bool = False, days: int = 7) -> list[str]:
    """A header and one line per alert (times in Asia/Shanghai); a sentence when there is none."""
    if not alerts:
        if include_resolved:
            return [f"no alerts open or resolved in the last {days} days (无告警)"]
        return ["no open alerts (无未解除的告警)"]
    rows = [[*HEADER, *(["resolved 已解除"] if include_resolved else []), "reason 原因"]]
    for a in alerts:
        row = [str(a.id), _when(a.first_seen_at), _when(a.last_seen_at), f"×{a.occurrences}", a.kind, a.where]
        row.append(a.dataset or "-")
        if include_resolved:
            row.append(_when(a.resolved_at) if a.resolved_at else "open 未解除")
        rows.append([*row, a.reason])
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(_pad(cell, w) for cell, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows]


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) >= 0x1100 and not 0xFF61 <= ord(ch) <= 0xFFDC else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
