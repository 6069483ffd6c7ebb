"""Stand-in for the 应急管理局's own registers: Excel workbooks placed in an inbox directory.

Contract: ``/work/shared/interfaces/bureau_ledgers.md``. Entry points::

    populate(inbox_dir, *, seed=42, scale=1.0, uploaded_at=None, faults=None) -> dict
    upload_version(inbox_dir, workbook, *, seed=42, scale=1.0, version=2, uploaded_at=None,
                   base_date=None, faults=None, file_name=None) -> dict

``populate`` writes version 1 of the registers (应急物资储备台账, 救援队伍台账,
危险化学品企业台账, 安全生产隐患排查台账, 辖区基础信息, 灾害信息员台账 (docs/disaster-informants.md) and
突发事件信息报告台账 (docs/contracts/bureau_event_reports.md)) as staff keep them, with the
imperfections the contract lists; ``upload_version`` replaces one register with
a later version (stock moved, a team added, hazards closed, new findings). The
file's modification time is the upload time. Both return what they wrote,
including every clear personal value (``personal``), so tests can scan for leaks.

Fault switches (:class:`BureauFaults` or a dict): ``wrong_header`` (a column
dropped and one renamed), ``malformed_rate`` (rows with an unreadable number,
date or coordinate, or a blank key), ``duplicate_rate`` (rows pasted twice).
"""

from __future__ import annotations

from standins.bureau.inbox import populate, upload_version
from standins.bureau.registers import REGISTERS, WRONG_HEADER
from standins.bureau.workbook import BureauFaults

__all__ = ["REGISTERS", "WRONG_HEADER", "BureauFaults", "populate", "upload_version"]
