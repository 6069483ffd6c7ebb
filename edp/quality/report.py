"""`edp report quality`: the auditor's data-quality report for a period (数据质量审计报告).

The report is made from the stored history only (``audit``, ``ops``, the
report-timeliness mart): per source and per mart the score per GB/T 36344
dimension, the trend per day, every blocking failure with its batches and a
masked sample, quarantine by reason, reconciliation, and the report
timeliness KPI against the plan's 100% target. One content, two forms: JSON
(the record) and a self-contained HTML page (inline CSS, no script, no external asset;
its only links are to the Data Docs).

Both are written locally and published to the lake
(``quality/reports/<from>_<to>.json|html``), and the JSON is appended to
``audit.quality_reports``: the view ``audit.quality_reports_latest`` (one row
per report id, its latest version) is what the sync's ``quality_reports``
dataset reads.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from edp.quality import report_data
from edp.quality.audit import dataset_status, to_json
from edp.settings import REGION_CODE, Settings
from edp.storage.lake import open_lake
from edp.storage.migrate import require_current
from edp.storage.warehouse import engine

log = logging.getLogger(__name__)

LAKE_PREFIX = "quality/reports"
TITLE = {"zh": "海城市应急管理局数据质量审计报告", "en": "Haicheng Emergency Management Bureau data quality report"}
REPORT_VERSION = "1.1"  # 1.1: every warning listed; Data Docs links (docs_link) per failure and hold

METHOD = {
    "zh": (
        "评分方法：一次“评估”是一次检查运行中一条规则对一个数据集的一次判定（含可访问性：表能否读取）。"
        "某来源（原始层各数据集合计）或某集市表在某一质量维度（GB/T 36344-2018：规范性、完整性、准确性、一致性、"
        "时效性、可访问性）上的得分 = 报告期内该维度通过的评估数 ÷ 该维度的评估总数，每次评估权重相同；"
        "总分 = 全部维度通过的评估数 ÷ 评估总数。无评估的维度记为“—”。"
        "趋势按北京时间逐日计算。阻断（blocking）规则失败时该数据集不向鞍山市同步；警告（warning）只记录。"
        "样本中的个人信息字段（连接器声明为 pii 的字段）一律以 *** 显示。"
    ),
    "en": (
        "Scoring: an evaluation is one rule judged on one dataset in one check run (accessibility included: "
        "whether the table could be read). A source's score (all its raw datasets) or a mart's score on a "
        "GB/T 36344-2018 dimension (conformity, completeness, accuracy, consistency, timeliness, accessibility) "
        "is the number of passed evaluations of that dimension in the period divided by all evaluations of it, "
        "each evaluation weighted equally; the overall score pools every dimension the same way. A dimension "
        "without evaluations shows as '—'. The trend is per day in Asia/Shanghai. A failed blocking rule stops "
        "the dataset from being sent to Anshan; a warning is recorded only. Values of personal-information "
        "columns (declared pii by the connectors) show as ***."
    ),
}


@dataclass(frozen=True)
class ReportFiles:
    report_id: str
    json_path: Path
    html_path: Path
    json_uri: str
    html_uri: str

    def as_dict(self) -> dict[str, str]:
        return {
            "report_id": self.report_id,
            "json": str(self.json_path),
            "html": str(self.html_path),
            "lake_json": self.json_uri,
            "lake_html": self.html_uri,
        }


def report_id(start: date, end: date) -> str:
    return f"{REGION_CODE}-quality-{start:%Y%m%d}-{end:%Y%m%d}"


def build_report(settings: Settings, start: date, end: date, now: datetime | None = None) -> dict[str, Any]:
    """The report's content (JSON-able, dates as ISO text)."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    require_current(settings)
    lo, hi = report_data.period_bounds(start, end)
    status = dataset_status(settings)
    with engine(settings).connect() as conn:
        rows = report_data.evaluations(conn, lo, hi)
        runs = report_data.runs(conn, lo, hi)
        failures = report_data.blocking_failures(conn, lo, hi)
        holds = report_data.holds(conn, lo, hi)
        evidence = {(f["dataset"], f["rule_id"]): f["docs_link"] for f in failures}
        for hold in holds:
            hold["docs_link"] = evidence.get((hold["dataset"], hold["rule"]))
        content = {
            "groups": report_data.groups(rows, status, {n: c.title for n, c in settings.sources().items()}),
            "trend": report_data.trend(rows, start, end),
            "blocking_failures": failures,
            "warnings": report_data.warnings(conn, lo, hi),
            "holds": holds,
            "quarantine": report_data.quarantine(conn, lo, hi),
            "reconciliation": report_data.reconciliation(conn, lo, hi),
            "report_timeliness": report_data.report_timeliness(conn, start, end),
            "town_report_timeliness": report_data.town_report_timeliness(conn, start, end),
        }
    evaluated = sum(r["evaluated"] for r in rows)
    passed = sum(r["passed"] for r in rows)
    report = {
        "report_id": report_id(start, end),
        "version": REPORT_VERSION,
        "title": TITLE,
        "region_code": REGION_CODE,
        "period": {"from": start.isoformat(), "to": end.isoformat(), "timezone": "Asia/Shanghai"},
        "generated_at": (now or datetime.now(UTC)).isoformat(),
        "method": METHOD,
        "summary": {
            "runs": len(runs),
            "runs_blocked": sum(not r["success"] for r in runs),
            "evaluations": evaluated,
            "passed": passed,
            "score": report_data.score(passed, evaluated),
            "blocking_failures": sum(r["failed_blocking"] for r in rows),
            "warnings": sum(r["failed_warning"] for r in rows),
            "datasets_checked": len({r["dataset"] for r in rows}),
            "datasets_blocked_now": sorted(d for d, s in status.items() if s == "blocked"),
            "datasets_held_now": sorted(d for d, s in status.items() if s == "held"),
            "records_held_now": sum(h["released_at"] is None for h in holds),
        },
        "dimensions": [{"code": d["code"], "zh": d["zh"]} for d in _dimensions()],
        **content,
    }
    return json.loads(to_json(report))  # one normalisation for file, lake, table and sync


def _dimensions() -> list[dict[str, str]]:
    from expectations.dimensions import DIMENSION_LABELS

    return [{"code": d.value, "zh": zh} for d, zh in DIMENSION_LABELS.items()]


def write_report(
    settings: Settings, start: date, end: date, out_dir: Path | None = None, now: datetime | None = None
) -> ReportFiles:
    """Build, write locally, publish to the lake and record in ``audit.quality_reports``."""
    from edp.quality.report_html import render

    report = build_report(settings, start, end, now)
    name = f"{start.isoformat()}_{end.isoformat()}"
    body = json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8")
    html = render(report).encode("utf-8")
    lake = open_lake(settings)

    folder = out_dir or settings.home_dir / "reports" / "quality"
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / f"{name}.json", folder / f"{name}.html"
    json_path.write_bytes(body)
    # The copy outside the lake cannot reach the Data Docs relatively: on a file lake its links are the pages'
    # own file:// addresses. An S3 lake's pages are read through the docs server, from the lake's copy.
    local_docs = report_data.DOCS_FROM_REPORT
    if lake.uri.startswith("file:"):
        local_docs = f"{lake.uri}{report_data.DOCS_MARKER}"
    html_path.write_bytes(render(report, local_docs).encode("utf-8"))

    lake.put_bytes(f"{LAKE_PREFIX}/{name}.json", body, "application/json")
    lake.put_bytes(f"{LAKE_PREFIX}/{name}.html", html, "text/html; charset=utf-8")
    _record(settings, report)
    log.info("quality report %s written to %s and %s/%s", report["report_id"], folder, lake.uri, LAKE_PREFIX)
    return ReportFiles(
        report_id=report["report_id"],
        json_path=json_path,
        html_path=html_path,
        json_uri=f"{lake.uri}/{LAKE_PREFIX}/{name}.json",
        html_uri=f"{lake.uri}/{LAKE_PREFIX}/{name}.html",
    )


def _record(settings: Settings, report: dict[str, Any]) -> None:
    """Append this version of the report (history: a re-made report adds a row, never replaces one)."""
    require_current(settings)
    with engine(settings).begin() as c:
        c.execute(
            sa.text(
                "insert into audit.quality_reports (report_id, period_from, period_to, generated_at, content) "
                "values (:id, :start, :end, :at, cast(:content as jsonb))"
            ),
            {
                "id": report["report_id"],
                "start": date.fromisoformat(report["period"]["from"]),
                "end": date.fromisoformat(report["period"]["to"]),
                "at": datetime.fromisoformat(report["generated_at"]),
                "content": json.dumps(report, ensure_ascii=False),
            },
        )


def quality_report_record(settings: Settings, report_id_: str) -> dict[str, Any] | None:
    """The sync record of a report: ``record_id`` is the report id, ``data`` its latest JSON content."""
    require_current(settings)
    with engine(settings).connect() as c:
        row = c.execute(
            sa.text("select report_id, content from audit.quality_reports_latest where report_id = :id"),
            {"id": report_id_},
        ).first()
    return None if row is None else {"record_id": row.report_id, "data": row.content}
