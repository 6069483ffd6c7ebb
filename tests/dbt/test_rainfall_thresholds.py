"""The rainfall threshold seed against the standards' own tables (no database)."""

from __future__ import annotations

import csv
import itertools

from edp.settings import REPO_ROOT

SEED = REPO_ROOT / "dbt" / "seeds" / "ref_rainfall_thresholds.csv"
SEVERITY_RANK = {"moderate": 2, "severe": 3, "extreme": 4}


def rows() -> list[dict[str, str]]:
    with SEED.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_gbt_28592_levels_are_the_standards_table() -> None:
    levels = {
        (int(r["window_hours"]), r["name_zh"]): (float(r["lower_mm"]), r["upper_mm"])
        for r in rows()
        if r["scheme"] == "level"
    }
    # GB/T 28592-2012 表 1: 12 h 暴雨 30.0–69.9, 大暴雨 70.0–139.9, 特大暴雨 ≥ 140.0;
    # 24 h 暴雨 50.0–99.9, 大暴雨 100.0–249.9, 特大暴雨 ≥ 250.0.
    assert levels[(12, "暴雨")] == (30.0, "69.9") and levels[(12, "大暴雨")] == (70.0, "139.9")
    assert levels[(12, "特大暴雨")] == (140.0, "")
    assert levels[(24, "暴雨")] == (50.0, "99.9") and levels[(24, "大暴雨")] == (100.0, "249.9")
    assert levels[(24, "特大暴雨")] == (250.0, "")
    # Each level starts 0.1 mm above the one below ends: no total falls between two levels.
    for window in (12, 24):
        ordered = sorted((lower, upper) for (w, _), (lower, upper) in levels.items() if w == window)
        for (_, upper), (next_lower, _) in itertools.pairwise(ordered):
            assert round(float(upper) + 0.1, 1) == next_lower


def test_signal_criteria_are_cma_order_16() -> None:
    signals = {r["level_code"]: r for r in rows() if r["scheme"] == "signal"}
    criteria = {code: (int(r["window_hours"]), float(r["lower_mm"])) for code, r in signals.items()}
    assert criteria == {"blue": (12, 50.0), "yellow": (6, 50.0), "orange": (3, 50.0), "red": (3, 100.0)}
    assert all("第16号" in r["source_standard"] for r in signals.values())


def test_a_row_is_standard_only_with_its_clause_and_events_rank_by_severity() -> None:
    for row in rows():
        assert row["code_status"] in {"standard", "to_confirm"} and row["status_note"], row["threshold_id"]
        if row["code_status"] == "standard":
            assert row["source_standard"] and row["source_clause"], row["threshold_id"]
    events = sorted((int(r["event_rank"]), r) for r in rows() if r["is_event"] == "true")
    assert len({rank for rank, _ in events}) == len(events)  # one precedence each
    ranks = [SEVERITY_RANK[r["severity"]] for _, r in events]
    assert ranks == sorted(ranks)  # a higher event_rank never has a lower severity
    short = next(r for r in rows() if r["scheme"] == "short_duration")
    assert (short["window_hours"], short["lower_mm"], short["is_event"]) == ("1", "20.0", "false")
