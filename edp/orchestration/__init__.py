"""Airflow: the functions the DAGs call (``pipeline``), the DAG factory (``dag_factory``,
imported only by ``dags/``), the Airflow runner (``airflow_run``) and the demo.
"""

from edp.orchestration import pipeline

__all__ = ["pipeline"]
