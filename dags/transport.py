"""Airflow DAG `transport`: 交通运输局 transport bureau → lake → raw."""

from __future__ import annotations

from edp.orchestration.dag_factory import ingest_dag

ingest_dag(
    "transport",
    "交通运输局",
    doc_md="""
### 交通运输局 transport bureau: road events, bridges, hazmat carriers and waybills
Pulls every change since the stored cursor (OAuth 2.0 client credentials,
cursor pages ordered by `updated_at`, id) up to the data interval's end into the
lake, then loads every pending batch into `raw.transport__road_events`,
`raw.transport__bridges`, `raw.transport__hazmat_carriers` and
`raw.transport__hazmat_waybills`, one transaction per batch; the cursor moves
only then. Records sharing the cursor's `updated_at` are neither skipped nor
repeated (`connectors/transport_cursor.py`); deleted records arrive once with
`deleted = true`.
""",
    tags=["transport"],
)
