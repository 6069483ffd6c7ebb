"""Airflow DAG `weather`: 气象局 weather bureau → lake → raw."""

from __future__ import annotations

from edp.orchestration.dag_factory import ingest_dag

ingest_dag(
    "weather",
    "气象局",
    doc_md="""
### 气象局 weather bureau: stations and hourly observations
Pulls observations since the stored cursor (6-hour lookback for the bureau's
late corrections) into the lake, then loads every pending batch into
`raw.weather__*` in one transaction per batch; the cursor moves only then.
""",
    tags=["weather"],
)
