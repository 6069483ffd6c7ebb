"""Data quality: run the GX suites and record outcomes (``runner``), the audit history
(``audit``), failing-row samples (``samples``), credit-code verdicts (``uscc``), GX Data
Docs (``data_docs``) and the auditor's report (``report``, ``report_data``, ``report_html``).
"""

from edp.quality.audit import dataset_status
from edp.quality.report import write_report
from edp.quality.runner import CheckRun, run_checks

__all__ = ["CheckRun", "dataset_status", "run_checks", "write_report"]
