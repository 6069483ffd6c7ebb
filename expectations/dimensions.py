"""Quality dimensions (GB/T 36344-2018) and severities that every expectation carries.

GX knows nothing about either: they travel in each expectation's ``meta`` and
reach ``audit.expectation_results`` from there. This module imports no GX, so
the registry stays cheap to import.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Dimension(StrEnum):
    """数据质量评价指标 GB/T 36344-2018 §4."""

    CONFORMITY = "conformity"
    COMPLETENESS = "completeness"
    ACCURACY = "accuracy"
    CONSISTENCY = "consistency"
    TIMELINESS = "timeliness"
    ACCESSIBILITY = "accessibility"


DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.CONFORMITY: "规范性",
    Dimension.COMPLETENESS: "完整性",
    Dimension.ACCURACY: "准确性",
    Dimension.CONSISTENCY: "一致性",
    Dimension.TIMELINESS: "时效性",
    Dimension.ACCESSIBILITY: "可访问性",
}


class Severity(StrEnum):
    # blocking: the dataset must not be published (the sync refuses it);
    # warning: recorded and shown, nothing stops.
    BLOCKING = "blocking"
    WARNING = "warning"


SEVERITY_LABELS: dict[Severity, str] = {Severity.BLOCKING: "阻断", Severity.WARNING: "警告"}

# GX 1.x has its own failure severity; ours maps onto it so GX-side tooling
# (Data Docs, actions) agrees with the audit tables.
_GX_SEVERITY: dict[Severity, str] = {Severity.BLOCKING: "critical", Severity.WARNING: "warning"}


def rule(
    rule_id: str, severity: Severity, dimension: Dimension, zh: str, en: str, *, level: str | None = None
) -> dict[str, Any]:
    """Keyword arguments that make a GX expectation one of our rules.

    ``rule_id`` is stable across runs (GX assigns a fresh random id to every
    expectation each time a suite is added to an ephemeral context), so the
    audit history of one rule can be followed over time. ``level`` (row or
    dataset, ``expectations.levels``) is declared where the expectation type does not imply it.
    """
    meta = {
        "rule_id": rule_id,
        "severity": severity.value,
        "dimension": dimension.value,
        "dimension_zh": DIMENSION_LABELS[dimension],
    }
    if level is not None:
        meta["level"] = str(level)
    return {
        "meta": meta,
        "notes": [
            f"**{SEVERITY_LABELS[severity]} {severity.value} · {DIMENSION_LABELS[dimension]} {dimension.value}**",
            zh,
            en,
        ],
        "severity": _GX_SEVERITY[severity],
    }
