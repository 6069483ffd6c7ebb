"""The auditor's report: its figures checked against the `audit` and `ops` tables, computed here independently."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from edp.exchange.sync import Exchanged, diff_to_outbox
from edp.quality.report import build_report, quality_report_record, report_id, write_report
from edp.quality.runner import run_checks
from edp.settings import Settings
from tests.support.weather_tables import MART, RAW, insert, observation, this_hour

pytestmark = pytest.mark.integration

LOCAL = ZoneInfo("Asia/Shanghai")
DIMENSIONS = ("conformity", "completeness", "accuracy", "consistency", "timeliness", "accessibility")


def _today() -> datetime:
    return datetime.now(LOCAL)


@pytest.fixture
def history(weather_tables: Settings, sql) -> Settings:
    """Two check runs (one blocked by a bad batch), a quarantined record, a batch that does not reconcile."""
    s = weather_tables
    run_checks(s, [RAW, MART])
    insert(s, RAW, [observation("54471", 2, "batch-3", precip_1h_mm=-5.0, updated_at=this_hour())])
    run_checks(s, [RAW])
    sql("update ops.batches set source_rows = source_rows + 1, quarantined_count = 1 where batch_id = 'batch-1'")
    sql(
        "insert into ops.quarantine (source, dataset, batch_id, locator, field, reason, record) values "
        "('weather', 'observations', 'batch-1', 'landing/x page-1 record 7', 'temp_c', 'expected float: not a number',"
        ' \'{"temp_c": "--"}\')'
    )
    # A stations batch the loader recorded as inserting 5 rows that raw does not hold.
    sql(
        "insert into ops.batches (batch_id, source, dataset, status, source_rows, row_count, inserted_count, "
        "unchanged_count, quarantined_count, duplicate_count, manifest_key, extracted_at) values "
        "('stations-2', 'weather', 'stations', 'loaded', 5, 5, 5, 0, 0, 0, 'm', now() - interval '5 minutes')"
    )
    return s


def _expected_scores(sql, start: datetime, end: datetime) -> dict:
    rows = sql(
        "select r.dataset, r.dimension, count(*) as n, count(*) filter (where r.success) as ok "
        "from audit.expectation_results r join audit.check_runs c using (run_id) "
        "where c.started_at >= :s and c.started_at < :e group by 1, 2",
        s=start,
        e=end,
    )
    per: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        group = r.dataset.removeprefix("raw.").split("__")[0] if r.dataset.startswith("raw.") else r.dataset[6:]
        counts = per.setdefault((group, r.dimension), [0, 0])
        counts[0] += r.ok
        counts[1] += r.n
    return per


def test_report_figures_match_the_audit_tables(history: Settings, sql) -> None:
    day = _today().date()
    # From yesterday: the fixture's batches were extracted up to 45 minutes ago, which is yesterday in
    # 海城市 until 00:45 (the checks themselves run now, today).
    first = day - timedelta(days=1)
    start = datetime(first.year, first.month, first.day, tzinfo=LOCAL)
    end = datetime(day.year, day.month, day.day, tzinfo=LOCAL) + timedelta(days=1)

    report = build_report(history, first, day)

    (total, passed) = sql(
        "select count(*), count(*) filter (where r.success) from audit.expectation_results r "
        "join audit.check_runs c using (run_id) where c.started_at >= :s and c.started_at < :e",
        s=start,
        e=end,
    )[0]
    assert report["summary"]["evaluations"] == total
    assert report["summary"]["passed"] == passed
    assert report["summary"]["score"] == round(passed / total, 4)
    assert report["summary"]["runs"] == 2 and report["summary"]["runs_blocked"] == 1

    expected = _expected_scores(sql, start, end)
    groups = {g["group"]: g for g in report["groups"]}
    assert set(groups) == {"weather", "fct_weather_hourly_extremes"}
    for (group, dimension), (ok, n) in expected.items():
        cell = groups[group]["dimension_scores"][dimension]
        assert (cell["passed"], cell["evaluated"], cell["score"]) == (ok, n, round(ok / n, 4)), (group, dimension)
    assert all(groups["weather"]["dimension_scores"][d]["evaluated"] for d in DIMENSIONS)

    (today_trend,) = [t for t in report["trend"] if t["date"] == day.isoformat()]
    assert (today_trend["evaluated"], today_trend["passed"]) == (total, passed)

    failures = {(f["dataset"], f["rule_id"]): f for f in report["blocking_failures"]}
    stored = sql(
        "select dataset, expectation_id, count(*) as n, array_agg(distinct b) as batches "
        "from audit.expectation_results, unnest(coalesce(failed_batches, '{}')) as b "
        "where not success and severity = 'blocking' group by 1, 2"
    )
    assert set(failures) == {(r.dataset, r.expectation_id) for r in stored}
    for r in stored:
        f = failures[(r.dataset, r.expectation_id)]
        assert (f["occurrences"], f["batches"]) == (r.n, sorted(r.batches))
    precip = failures[(RAW, "precip_1h_mm_in_range")]
    assert precip["batches"] == ["batch-3"] and precip["sample"][0]["_batch_id"] == "batch-3"

    assert report["quarantine"]["total"] == 1
    (reason,) = report["quarantine"]["by_reason"]
    assert (reason["dataset"], reason["field"], reason["records"], reason["open"]) == ("observations", "temp_c", 1, 1)

    recon = report["reconciliation"]
    (difference,) = recon["differences"]
    assert (
        difference["_batch_id"] == "stations-2" and "raw holds 0 rows of the batch, inserted 5" in difference["problem"]
    )
    loaded = sql("select count(*) from ops.batches where status = 'loaded'")[0][0]
    assert (recon["loaded"], recon["reconciled"]) == (loaded, loaded - 1)

    kpi = report["report_timeliness"]
    assert kpi["available"] is False and "not available" in kpi["note"]
    assert "score" in report["method"]["en"] and "得分" in report["method"]["zh"]


def test_report_timeliness_kpi_comes_from_the_mart(history: Settings, sql) -> None:
    day = _today().date()
    sql(
        "create table marts.fct_report_timeliness (report_timeliness_id text primary key, source text, "
        "source_dataset text, event_date date, target_minutes int, event_count int, reported_count int, "
        "timely_count int, late_count int, unreported_count int, is_measured boolean, timely_share numeric(5,4), "
        "meets_target boolean, median_lag_minutes double precision, max_lag_minutes int)"
    )
    sql(
        "insert into marts.fct_report_timeliness values "
        "('weather-observations-d', 'weather', 'observations', :d, 60, 95, 95, 94, 1, 0, true, 0.9895, false, 5, 248),"
        "('police-alarms-d', 'police', 'alarms', :d, 60, 10, 9, 8, 1, 1, true, 0.8, false, 20, 90),"
        "('police-accidents-d', 'police', 'accidents', :d, 60, 4, 0, 0, 0, 4, false, null, null, null, null),"
        "('police-alarms-old', 'police', 'alarms', :old, 60, 10, 0, 0, 0, 10, true, 0, false, null, null)",
        d=day,
        old=day - timedelta(days=40),
    )

    kpi = build_report(history, day, day)["report_timeliness"]

    assert kpi["available"] is True
    assert (kpi["events"], kpi["timely"]) == (105, 102)  # measured datasets of the period only
    assert kpi["share"] == round(102 / 105, 4)
    assert kpi["target"] == 1.0 and kpi["meets_target"] is False
    assert kpi["unmeasured"] == ["police.accidents"]


def test_the_plan_kpi_comes_from_the_town_reports_mart(history: Settings, sql) -> None:
    day = _today().date()
    assert build_report(history, day, day)["town_report_timeliness"]["available"] is False
    sql(
        "create table marts.fct_town_report_timeliness (town_report_timeliness_id text primary key, "
        "division_code text, division_name text, due_month date, event_count int, due_count int, on_time_count int, "
        "late_count int, missing_count int, timely_share numeric(5,4), target_share numeric(5,4), meets_target boolean)"
    )
    month = day.replace(day=1)
    sql(
        "insert into marts.fct_town_report_timeliness values "
        "('a', '210381101000', '孤山镇', :m, 2, 4, 3, 0, 1, 0.75, 1, false),"
        "('b', '210381115000', '南台镇', :m, 1, 2, 2, 0, 0, 1, 1, true),"
        "('c', '210381115000', '南台镇', :old, 1, 5, 0, 5, 0, 0, 1, false)",
        m=month,
        old=month - timedelta(days=70),
    )

    kpi = build_report(history, day, day)["town_report_timeliness"]

    assert kpi["available"] is True and (kpi["due"], kpi["on_time"]) == (6, 5)  # the period's month only
    assert kpi["share"] == round(5 / 6, 4) and kpi["meets_target"] is False
    assert [(t["division_name"], t["share"]) for t in kpi["by_town"]] == [("孤山镇", 0.75), ("南台镇", 1.0)]


def test_personal_information_in_a_stored_sample_is_masked_in_the_report(history: Settings, sql) -> None:
    # A sample recorded with a value of a pii column (as if before the column was declared pii).
    run = sql("select run_id from audit.check_runs order by started_at limit 1")[0][0]
    sql(
        "insert into audit.expectation_results (run_id, dataset, suite, expectation_type, expectation_id, kwargs, "
        "dimension, dimension_zh, severity, success, unexpected_count, unexpected_sample, failed_batches, checked_at)"
        " values (:r, 'raw.police__alarms', 'police__alarms', 'unexpected_rows_expectation', 'received_at_not_future',"
        " '{}', 'accuracy', '准确性', 'blocking', false, 1, cast(:sample as jsonb), array['police.alarms.b1'], now())",
        r=run,
        sample=json.dumps([{"alarm_id": "J1", "_batch_id": "police.alarms.b1", "caller_phone_masked": "138****5678"}]),
    )

    report = build_report(history, _today().date(), _today().date())

    (failure,) = [f for f in report["blocking_failures"] if f["dataset"] == "raw.police__alarms"]
    assert failure["sample"] == [{"alarm_id": "J1", "_batch_id": "police.alarms.b1", "caller_phone_masked": "***"}]
    assert "138****5678" not in json.dumps(report, ensure_ascii=False)


def test_report_is_written_published_and_ready_for_the_sync(history: Settings, sql, tmp_path) -> None:
    day = _today().date()
    files = write_report(history, day, day, tmp_path / "out")

    name = f"{day.isoformat()}_{day.isoformat()}"
    assert files.report_id == report_id(day, day) == f"210381-quality-{day:%Y%m%d}-{day:%Y%m%d}"
    assert files.json_path == tmp_path / "out" / f"{name}.json" and files.html_path.name == f"{name}.html"
    lake = history.home / "lake" / "quality" / "reports"
    assert (lake / f"{name}.json").read_bytes() == files.json_path.read_bytes()
    # The same page, but for the Data Docs links: relative in the lake, the pages' file:// addresses outside it.
    in_lake = (lake / f"{name}.html").read_text(encoding="utf-8")
    assert 'href="../docs/' in in_lake
    docs = (lake.parent / "docs").resolve().as_uri()
    assert in_lake.replace('href="../docs/', f'href="{docs}/') == files.html_path.read_text(encoding="utf-8")
    assert files.html_uri == (lake / f"{name}.html").resolve().as_uri()

    content = json.loads(files.json_path.read_text(encoding="utf-8"))
    html = in_lake
    # Self-contained: inline CSS, no script, no external asset; its only links are to its own sections
    # and, relative, to the Data Docs beside it in the lake.
    assert "<style>" in html
    assert not re.search(r"<script|<link|<img|\bsrc=", html, re.IGNORECASE)
    assert not re.search(r"url\(", html)
    links = re.findall(r'href="([^"]*)"', html)
    assert links and all(h.startswith(("#", "../docs/validations/")) for h in links), links
    # Chinese with English labels, and the same figures as the JSON.
    for label in ("规范性", "conformity", "可访问性", "accessibility", "对账状态", "Reconciliation status",
                  "隔离记录", "Quarantined records", "信息上报及时率", "not available"):  # fmt: skip
        assert label in html
    assert f"{content['summary']['score'] * 100:.1f}%" in html
    assert "batch-3" in html and "stations-2" in html
    assert content["method"]["zh"] in html

    # The sync's quality_reports dataset: record id = report id, data = the report (latest version).
    record = quality_report_record(history, files.report_id)
    assert record is not None and record["record_id"] == files.report_id
    assert record["data"] == content
    again = write_report(history, day, day, tmp_path / "out", now=datetime.now(UTC) + timedelta(seconds=5))
    assert sql("select count(*) from audit.quality_reports where report_id = :r", r=again.report_id)[0][0] == 2
    latest = quality_report_record(history, again.report_id)
    assert latest is not None and latest["data"]["generated_at"] > content["generated_at"]

    # Wired as the lead is asked to: EXCHANGED["quality_reports"] reads the view, keyed by report_id.
    spec = Exchanged("quality_reports", "audit.quality_reports_latest", "report_id")
    assert diff_to_outbox(history, spec) == {"upsert": 1, "delete": 0, "unchanged": 0}
    assert diff_to_outbox(history, spec) == {"upsert": 0, "delete": 0, "unchanged": 1}


def test_cli_writes_the_report_and_returns_its_paths(history: Settings) -> None:
    from typer.testing import CliRunner

    from edp.cli import app

    day = _today().date().isoformat()
    result = CliRunner().invoke(app, ["report", "quality", "--from", day, "--to", day])

    assert result.exit_code == 0, result.output
    paths = json.loads(result.output[result.output.index("{") :])
    assert paths["report_id"].startswith("210381-quality-")
    assert paths["html"].endswith(f"{day}_{day}.html") and paths["lake_json"].endswith(f"{day}_{day}.json")
    bad = CliRunner().invoke(app, ["report", "quality", "--from", "2026-13-01", "--to", day])
    assert bad.exit_code != 0


def test_report_lists_every_warning_and_failure_with_its_data_docs_page(history: Settings, sql, tmp_path) -> None:
    # A third run finds the observations 5 hours old: a timeliness warning, recorded, not blocking.
    sql("update ops.batches set extracted_at = extracted_at - interval '5 hours' where dataset = 'observations'")
    sql("update raw.weather__observations set _extracted_at = _extracted_at - interval '5 hours'")
    run_checks(history, [RAW])
    day = _today().date()
    files = write_report(history, day, day, tmp_path / "out")
    content = json.loads(files.json_path.read_text(encoding="utf-8"))
    html = files.html_path.read_text(encoding="utf-8")
    report_in_lake = history.home / "lake" / "quality" / "reports" / files.html_path.name
    in_lake = report_in_lake.read_text(encoding="utf-8")

    for severity, listed in (("warning", content["warnings"]), ("blocking", content["blocking_failures"])):
        stored = sql(
            "select dataset, expectation_id, count(*) as n, max(docs_uri) as docs from audit.expectation_results "
            "where not success and severity = :s group by 1, 2",
            s=severity,
        )
        assert stored, severity  # the fixture has both kinds
        assert {(e["dataset"], e["rule_id"]): e["occurrences"] for e in listed} == {
            (r.dataset, r.expectation_id): r.n for r in stored
        }
        for entry in listed:
            assert entry["severity"] == severity and "observed_value" in entry
            # The link, relative to the report in the lake, reaches the validation page of that run...
            page = (report_in_lake.parent / entry["docs_link"]).resolve()
            assert page.is_file() and page.as_uri() == entry["docs_uri"]
            assert f'href="{entry["docs_link"]}"' in in_lake
            # ...and the copy outside the lake links the same page by its own address.
            assert f'href="{page.as_uri()}"' in html
            assert entry["rule_id"] in html
    assert content["summary"]["warnings"] == sum(r.n for r in sql(
        "select count(*) as n from audit.expectation_results r join audit.check_runs c using (run_id) "
        "where not r.success and r.severity = 'warning'"))  # fmt: skip
    warnings_section = html[html.index('id="warnings"') : html.index("扣留记录（行级规则）")]
    assert all(w["rule_id"] in warnings_section for w in content["warnings"])
    # Every table scrolls inside its section instead of running off the page.
    assert html.count("<table") == html.count('<div class="scroll"><table')
    assert ".scroll { overflow-x: auto" in html
