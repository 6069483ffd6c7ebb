"""Airflow DAG `water`: 水利局 water bureau (SL 323-2011 database) → lake → raw."""

from __future__ import annotations

from edp.orchestration.dag_factory import ingest_dag

ingest_dag(
    "water",
    "水利局",
    doc_md="""
### 水利局 water bureau: real-time rain and water database (SL 323-2011)
Reads the bureau's stations, flood-control thresholds and flood-season limits
(snapshots) and its rainfall, river-stage and reservoir tables by `TM` from
the stored cursor minus a 24-hour lookback (late backlogs, corrections in
place) into the lake, then loads every pending batch into `raw.water__*` in
one transaction per batch; the cursor moves only then.
""",
    tags=["water"],
)
