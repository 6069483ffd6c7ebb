"""Airflow DAG `police`: 公安局 daily file drops → lake → raw."""

from __future__ import annotations

from edp.orchestration.dag_factory import ingest_dag

ingest_dag(
    "police",
    "公安局",
    doc_md="""
### 公安局 public-security bureau: daily file drops (JJXX / JTSG / ZDDW)
The bureau's export job drops yesterday's `JJXX_/JTSG_/ZDDW_YYYYMMDD.csv` (GB18030)
and a `.ok` marker around 01:00. Each run reads every file of a complete day
(the data interval's end has passed the day) that is new, late or re-sent since
the stored cursor; a file without marker waits for a later run; a file whose
marker disagrees is rejected whole and reported in quarantine. Personal data is
pseudonymised in the connector before anything is landed. Loads into
`raw.police__alarms`, `raw.police__alarm_daily_counts`, `raw.police__accidents`
and `raw.police__key_units`, a re-sent day replacing its day, in one
transaction per batch; the cursor moves only then.
""",
    tags=["police"],
)
