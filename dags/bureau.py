"""Airflow DAG `bureau`: 应急管理局 register workbooks (Excel inbox) → lake → raw."""

from __future__ import annotations

from edp.orchestration.dag_factory import ingest_dag

ingest_dag(
    "bureau",
    "应急管理局台账",
    doc_md="""
### 应急管理局 registers: Excel workbooks from the inbox
Loads each new version of the registers (应急物资储备台账, 救援队伍台账,
危险化学品企业台账, 安全生产隐患排查台账, 辖区基础信息, 灾害信息员台账) into
`raw.bureau__*`, one transaction per batch; every version is kept, a version
already loaded (same sha256 in the cursor) adds nothing. A workbook whose
header does not match is rejected whole (quarantined with the missing and
unknown columns named) while the other registers still load. 负责人, 安全负责人,
姓名 and 联系电话 are pseudonymised; the lake keeps a pseudonymised rendering, never
the workbook.
""",
    tags=["bureau"],
)
