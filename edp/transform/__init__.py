"""Raw to marts: run the dbt project in ``dbt/`` against the warehouse (``dbt_runner``)."""

from edp.transform.dbt_runner import DbtError, DbtResult, build, docs_generate, run_dbt, source_freshness

__all__ = ["DbtError", "DbtResult", "build", "docs_generate", "run_dbt", "source_freshness"]
