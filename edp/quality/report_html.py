"""The report as one self-contained HTML page: inline CSS, no script, no external asset."""

from __future__ import annotations

from typing import Any

from edp.quality.report_data import DOCS_FROM_REPORT

TEMPLATE = "quality_report.html.j2"


def render(report: dict[str, Any], docs_root: str = DOCS_FROM_REPORT) -> str:
    """The page; its Data Docs links start at ``docs_root`` (relative to the report in the lake by default)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("edp.quality", "templates"),
        autoescape=select_autoescape(("html", "j2")),
        undefined=StrictUndefined,  # a missing figure is an error, not an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = pct
    env.filters["level"] = level
    env.filters["cell"] = cell
    env.filters["docs_href"] = lambda link: docs_root + link.removeprefix(DOCS_FROM_REPORT)
    return env.get_template(TEMPLATE).render(r=report)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def level(value: float | None) -> str:
    """A CSS class for a score: good from 99.5%, fair from 95%."""
    if value is None:
        return "na"
    return "good" if value >= 0.995 else "fair" if value >= 0.95 else "poor"


def cell(value: Any) -> str:
    """A sample value as text (nested values as compact JSON)."""
    import json

    if value is None:
        return "∅"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
