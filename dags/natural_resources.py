"""Airflow DAG `natural_resources`: 自然资源局 WFS layers → lake → raw."""

from __future__ import annotations

from edp.orchestration.dag_factory import ingest_dag

ingest_dag(
    "natural_resources",
    "自然资源局",
    doc_md="""
### 自然资源局 natural-resources bureau: WFS 2.0 snapshots
Reads the layers `dz:hazard_points` 地质灾害隐患点, `kc:mining_rights` 采矿权 and
`yj:shelters` 应急避难场所 whole (GetFeature paging by `startIndex`/`count`,
sorted by each layer's key) into the lake, then loads them into
`raw.natural_resources__*` in one transaction per batch. Every changed snapshot
is stored whole (the history of sites, licences and shelters); an unchanged one
(same content hash as the cursor) adds nothing. A snapshot with features
missing (unstable paging) or an OGC ExceptionReport stops the layer with a
clear error. 监测责任人 is pseudonymised before anything is written.
""",
    tags=["natural_resources"],
)
