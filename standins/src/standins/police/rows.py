"""A generated CSV row: its cells by Chinese header, plus what tests need to know about it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from standins.police.places import Town, coordinates


@dataclass
class Row:
    cells: dict[str, str]
    # The row's identity (接警编号, 事故编号, 许可证号).
    key: str
    # Clear personal values in the row (police.md), for privacy tests.
    pii: list[str] = field(default_factory=list)
    emergency: bool = False
    category_code: str = ""
    division_code: str = ""
    # A hazmat vehicle's plate, allowed in clear.
    hazmat_plate: str | None = None


def fmt_time(r: random.Random, moment: datetime) -> str:
    """The export mixes ``2026-11-28 13:05:22`` and ``2026/11/28 13:05`` in one file."""
    return moment.strftime("%Y/%m/%d %H:%M") if r.random() < 0.35 else moment.strftime("%Y-%m-%d %H:%M:%S")


def coordinate_cells(r: random.Random, town: Town) -> tuple[str, str]:
    """经度, 纬度 as exported: mostly right, sometimes empty, 0 or swapped."""
    lon, lat = coordinates(r, town)
    roll = r.random()
    if roll < 0.05:
        return "", ""
    if roll < 0.08:
        return "0", "0"
    if roll < 0.12:
        return f"{lat}", f"{lon}"
    return f"{lon}", f"{lat}"
