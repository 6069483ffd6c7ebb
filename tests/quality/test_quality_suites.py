"""The suites as values, and the pieces of the quality layer that need no database."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edp.lake import LocalLake
from edp.quality import CheckRun, DatasetSummary, Outcome
from edp.quality_audit import to_json
from edp.quality_docs import publish_site
from expectations import DIMENSION_LABELS, SUITES, Dimension, Severity, target
from expectations.weather import PHYSICAL_LIMITS

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_registry_names_the_tables_checked() -> None:
    assert set(SUITES) == {"raw.weather__observations", "marts.fct_weather_hourly_extremes"}
    assert target("raw.weather__observations") == ("raw", "weather__observations")
    with pytest.raises(ValueError):
        target("weather__observations")


@pytest.mark.parametrize(("dataset", "total", "blocking"), [
    ("raw.weather__observations", 17, 14),
    ("marts.fct_weather_hourly_extremes", 11, 8),
])  # fmt: skip
def test_every_expectation_is_one_of_our_rules(dataset: str, total: int, blocking: int) -> None:
    suite = SUITES[dataset]()

    assert len(suite.expectations) == total
    assert sum(e.meta["severity"] == Severity.BLOCKING for e in suite.expectations) == blocking
    rule_ids = [e.meta["rule_id"] for e in suite.expectations]
    assert len(set(rule_ids)) == len(rule_ids)
    for e in suite.expectations:
        assert Severity(e.meta["severity"]) and Dimension(e.meta["dimension"])
        assert e.meta["dimension_zh"] == DIMENSION_LABELS[Dimension(e.meta["dimension"])]
        # GX's own severity agrees with ours.
        assert e.severity.value == ("critical" if e.meta["severity"] == "blocking" else "warning")
        _label, zh, en = e.notes
        assert CJK.search(zh) and not CJK.search(en), e.meta["rule_id"]


def test_suites_are_fresh_values() -> None:
    build = SUITES["raw.weather__observations"]
    assert build() is not build()
    assert build().name == "weather__observations"  # one name per source (house style)


def test_raw_ranges_skip_rows_the_bureau_flagged_wrong() -> None:
    suite = SUITES["raw.weather__observations"]()
    ranges = [e for e in suite.expectations if e.meta["rule_id"].endswith("_in_range")]

    assert {e.column for e in ranges} == set(PHYSICAL_LIMITS)
    for e in ranges:
        assert "qc" in json.dumps(e.row_condition.dict())


def test_mart_limits_come_from_the_raw_suite() -> None:
    suite = SUITES["marts.fct_weather_hourly_extremes"]()
    precip = next(e for e in suite.expectations if e.meta["rule_id"] == "max_precip_1h_mm_in_range")
    assert (precip.min_value, precip.max_value) == PHYSICAL_LIMITS["precip_1h_mm"][:2]


def test_to_json_writes_what_jsonb_accepts() -> None:
    value = {"t": datetime(2026, 11, 29, 8, tzinfo=UTC), "nan": math.nan, "rows": ({"a": 1},)}
    assert json.loads(to_json(value)) == {"t": "2026-11-29T08:00:00+00:00", "nan": None, "rows": [{"a": 1}]}


def _outcome(rule_id: str, severity: str, success: bool, **kw: object) -> Outcome:
    return Outcome(
        dataset="raw.weather__observations",
        suite="weather__observations",
        expectation_type="expect_column_values_to_be_between",
        rule_id=rule_id,
        kwargs={},
        column=None,
        dimension="accuracy",
        severity=severity,
        success=success,
        **kw,  # type: ignore[arg-type]
    )


def test_summary_lines_name_each_failure() -> None:
    now = datetime(2026, 11, 29, 8, tzinfo=UTC)
    outcomes = (
        _outcome("precip_1h_mm_in_range", "blocking", False, unexpected_count=3),
        _outcome("temp_c_in_range", "blocking", True),
        _outcome("station_id_format", "warning", False, unexpected_count=1),
    )
    summary = DatasetSummary("raw.weather__observations", "weather__observations", 3, 1, 1, 1)
    run = CheckRun("20261129T080000Z-abcd1234", now, now, {summary.dataset: summary}, outcomes, None)

    assert not run.success
    assert run.pass_rate == pytest.approx(1 / 3)
    lines = run.summary_lines()
    assert lines[0] == "check run 20261129T080000Z-abcd1234: BLOCKED, 1/3 passed (33.3%)"
    assert "blocked" in lines[1]
    assert "[blocking] precip_1h_mm_in_range (准确性 accuracy): 3 unexpected" in lines[2]
    assert "[warning] station_id_format" in lines[3]
    assert lines[-1] == "data docs: not published (see log)"


def test_publish_site_copies_changes_only_and_the_index_last(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "static").mkdir(parents=True)
    (site / "index.html").write_text("<html>1</html>")
    (site / "static" / "app.css").write_text("body{}")
    (site / ".ge_store_backend_id").write_text("x")
    lake = LocalLake(tmp_path / "lake")
    manifest = tmp_path / "published.json"

    assert publish_site(lake, site, manifest) == 2
    assert list(lake.list("quality/docs/")) == ["quality/docs/index.html", "quality/docs/static/app.css"]
    assert publish_site(lake, site, manifest) == 0
    (site / "index.html").write_text("<html>2</html>")
    assert publish_site(lake, site, manifest) == 1
    assert lake.get_bytes("quality/docs/index.html") == b"<html>2</html>"

    lake.delete("quality/docs/index.html")  # the lake lost the site: copy it all again
    assert publish_site(lake, site, manifest) == 2
