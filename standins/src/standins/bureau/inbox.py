"""The inbox: the first upload of every register, and later versions of one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from standins.bureau.generate import GENERATORS
from standins.bureau.registers import REGISTERS, register
from standins.bureau.workbook import BureauFaults, Written, write_register
from standins.common.timefmt import as_aware, local_date


def _faults(faults: BureauFaults | Mapping[str, Any] | None) -> BureauFaults:
    if isinstance(faults, BureauFaults):
        return faults
    switches = BureauFaults()
    if faults:
        switches.update(faults)
    return switches


def _write(
    inbox: Path,
    dataset: str,
    *,
    seed: int,
    scale: float,
    version: int,
    base: date,
    uploaded_at: datetime,
    faults: BureauFaults,
    file_name: str | None,
) -> Written:
    reg = REGISTERS[dataset]
    day = local_date(uploaded_at)
    rows = GENERATORS[dataset](seed, scale, version, base, day)
    written = write_register(
        inbox / (file_name or reg.file_name), reg, rows, seed=seed, version=version, saved_at=uploaded_at, faults=faults
    )
    stamp = uploaded_at.timestamp()
    os.utime(written.path, (stamp, stamp))  # the upload time is the file's modification time
    return written


def _summary(written: Written) -> dict[str, Any]:
    return {
        "path": str(written.path),
        "rows_written": written.rows,
        "rows": len(written.keys),  # distinct well-formed rows: what a correct load keeps
        "malformed": [{"row": row, "column": header} for row, header in written.malformed],
        "duplicates": written.duplicates,
        "missing": written.missing,
        "unknown": written.unknown,
        "personal": sorted(written.personal),
    }


def populate(
    inbox_dir: Path | str,
    *,
    seed: int = 42,
    scale: float = 1.0,
    uploaded_at: datetime | None = None,
    faults: BureauFaults | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write version 1 of all the registers into ``inbox_dir``.

    Returns ``{"inbox", "uploaded_at", "base_date", "registers": {dataset: summary}, "personal": [...]}``
    where ``personal`` lists every clear personal value written (names and phones, also those in the
    notes), for tests that scan the platform for leaks.
    """
    inbox = Path(inbox_dir)
    when = as_aware(uploaded_at or datetime.now(UTC))
    switches = _faults(faults)
    base = local_date(when)
    registers = {
        dataset: _summary(
            _write(
                inbox,
                dataset,
                seed=seed,
                scale=scale,
                version=1,
                base=base,
                uploaded_at=when,
                faults=switches,
                file_name=None,
            )
        )
        for dataset in REGISTERS
    }
    personal = sorted({value for info in registers.values() for value in info["personal"]})
    return {
        "inbox": str(inbox),
        "uploaded_at": when.isoformat(),
        "base_date": base.isoformat(),
        "registers": registers,
        "personal": personal,
    }


def upload_version(
    inbox_dir: Path | str,
    workbook: str,
    *,
    seed: int = 42,
    scale: float = 1.0,
    version: int = 2,
    uploaded_at: datetime | None = None,
    base_date: date | None = None,
    faults: BureauFaults | Mapping[str, Any] | None = None,
    file_name: str | None = None,
) -> dict[str, Any]:
    """Upload ``version`` of one register (by dataset name, title or file name), replacing the file.

    ``base_date`` is the first version's day (``populate()["base_date"]``): history keeps its dates across
    versions. ``file_name`` writes the version under another name (e.g. ``应急物资储备台账_v2.xlsx``).
    """
    reg = register(workbook)
    when = as_aware(uploaded_at or datetime.now(UTC))
    written = _write(
        Path(inbox_dir),
        reg.dataset,
        seed=seed,
        scale=scale,
        version=version,
        base=base_date or local_date(when),
        uploaded_at=when,
        faults=_faults(faults),
        file_name=file_name,
    )
    return {"dataset": reg.dataset, "version": version, "uploaded_at": when.isoformat(), **_summary(written)}
