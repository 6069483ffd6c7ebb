"""The suites as values, and the pieces of the quality layer that need no database."""

from __future__ import annotations

import json
import math
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.context import SourceContext
from connectors.registry import SOURCES, connector_package
from edp.quality.audit import to_json
from edp.quality.data_docs import publish_site
from edp.quality.runner import CheckRun, DatasetSummary, Outcome
from edp.quality.samples import MASK, batch_sql, batches_of, from_result, mask_row
from edp.quality.uscc import verdict
from edp.storage.lake import LocalLake
from expectations import DIMENSION_LABELS, SUITES, Dimension, Severity, target
from expectations.marts import MARTS_DIR, UNCHECKED_DOMAINS, contracts
from expectations.raw import LINEAGE, freshness_allowance
from expectations.reference import division_codes
from expectations.weather import PHYSICAL_LIMITS
from tests.support.weather_tables import schedules

CJK = re.compile(r"[\u4e00-\u9fff]")
VALID_CODE = "91210381MA0QCK9W5M"  # its check character is recomputed by _check_char below


# Where each connector would look: never reached, only needed to build it.
_URLS = {"water": "postgresql+psycopg://reader:@127.0.0.1:1/none", "police": tempfile.gettempdir(),
         "bureau": tempfile.gettempdir()}  # fmt: skip


def _declared() -> dict[str, dict]:
    """Every connector's datasets, asked of the connector itself (built offline, nothing reached)."""
    found = {}
    for name in SOURCES:
        ctx = SourceContext(
            name=name,
            url=_URLS.get(name, "http://127.0.0.1:9"),
            credential=lambda key: "unused",
            pii_key=lambda: b"k" * 32,
            work_dir=Path("/nonexistent"),
            params={"weather_lookback_hours": 6, "weather_initial_days": 3},
        )
        source = connector_package(name).create(ctx)
        try:
            found[name] = source.datasets()
        finally:
            source.close()
    return found


DECLARED = _declared()
RAW_DATASETS = {f"raw.{ds.table}": ds for datasets in DECLARED.values() for ds in datasets.values()}


def _built(dataset: str):
    return SUITES[dataset].build(schedules())


def _rule(suite, rule_id: str):
    return next(e for e in suite.expectations if e.meta["rule_id"] == rule_id)


def test_every_raw_dataset_of_every_connector_has_a_suite() -> None:
    assert set(DECLARED) == {"weather", "water", "police", "natural_resources", "transport", "bureau"}
    assert {name: len(d) for name, d in DECLARED.items()} == {
        "weather": 3, "water": 6, "police": 4, "natural_resources": 3, "transport": 4, "bureau": 7,
    }  # fmt: skip
    raw_suites = {name for name, s in SUITES.items() if s.layer == "raw"}
    assert raw_suites == set(RAW_DATASETS)


@pytest.mark.parametrize("dataset", sorted(RAW_DATASETS))
def test_raw_suite_follows_its_declaration(dataset: str) -> None:
    ds = RAW_DATASETS[dataset]
    entry = SUITES[dataset]
    suite = _built(dataset)

    assert entry.group == ds.source and entry.source == ds.source
    assert suite.name == ds.table  # one name per source everywhere (house style)
    assert set(_rule(suite, "columns_exist").column_set) == {*ds.field_names, *LINEAGE}
    for key in ds.primary_key:
        assert _rule(suite, f"{key}_not_null").meta["severity"] == Severity.BLOCKING
    assert _rule(suite, "unique_per_batch").column_list == [*ds.primary_key, "_batch_id"]
    assert _rule(suite, "batches_reconciled").meta["severity"] == Severity.BLOCKING
    assert _rule(suite, "volume_in_line").meta["severity"] == Severity.WARNING
    assert _rule(suite, "fresh_per_schedule").meta["dimension"] == Dimension.TIMELINESS
    assert entry.pii_columns == {f.name for f in ds.fields if f.pii}
    assert entry.index_columns == (*ds.primary_key, "_batch_id")
    # Validated: the current rows of raw (per key for incremental datasets, the latest snapshot otherwise).
    assert f'raw."{ds.table}"' in (entry.query or "")
    assert ("partition by" in entry.query) is (ds.mode == "incremental")


def test_every_mart_has_a_suite_keyed_to_its_contract() -> None:
    models = {p.stem for p in MARTS_DIR.glob("*/*.sql")}
    assert models == set(contracts())
    models -= {m for m, c in contracts().items() if c.domain in UNCHECKED_DOMAINS}
    assert models and all(m.startswith(("fct_", "dim_")) for m in models)
    mart_suites = {name: s for name, s in SUITES.items() if s.layer == "marts"}
    assert set(mart_suites) == {f"marts.{m}" for m in models}
    for name, entry in mart_suites.items():
        contract = contracts()[name.removeprefix("marts.")]
        assert entry.index_columns == contract.primary_key
        assert set(_rule(_built(name), "columns_exist").column_set) == set(contract.columns)


def test_marts_do_not_repeat_what_dbt_tests() -> None:
    # Keys (unique, not null) and relationships are dbt's: no mart suite has such a rule on its key.
    for name, entry in SUITES.items():
        if entry.layer != "marts":
            continue
        for e in _built(name).expectations:
            assert e.expectation_type not in (
                "expect_column_values_to_be_unique",
                "expect_column_values_to_not_be_null",
            )


@pytest.mark.parametrize("dataset", sorted(SUITES))
def test_every_expectation_is_one_of_our_rules(dataset: str) -> None:
    suite = _built(dataset)

    rule_ids = [e.meta["rule_id"] for e in suite.expectations]
    assert len(set(rule_ids)) == len(rule_ids)
    for e in suite.expectations:
        assert Severity(e.meta["severity"]) and Dimension(e.meta["dimension"])
        assert e.meta["dimension_zh"] == DIMENSION_LABELS[Dimension(e.meta["dimension"])]
        # GX's own severity agrees with ours.
        assert e.severity.value == ("critical" if e.meta["severity"] == "blocking" else "warning")
        _label, zh, en = e.notes
        assert CJK.search(zh) and not CJK.search(en), e.meta["rule_id"]


@pytest.mark.parametrize("dataset", sorted(SUITES))
def test_sql_rules_substitute_like_gx(dataset: str) -> None:
    """Braces are escaped, and a query with JOIN aliases {batch} (GX leaves the alias to it then)."""
    entry = SUITES[dataset]
    for e in _built(dataset).expectations:
        query = getattr(e, "unexpected_rows_query", None)
        if query is None:
            continue
        sql = query.format(batch=batch_sql(entry, query))  # a stray brace raises here
        if re.search(r"\bjoin\b", query, re.IGNORECASE):
            assert re.search(r"\{batch\} [a-z]\b", query), e.meta["rule_id"]
            assert "AS subselect" not in sql
        else:
            assert not re.search(r"\{batch\} [a-z]\b", query), e.meta["rule_id"]


def test_suites_are_fresh_values_and_need_the_schedule() -> None:
    entry = SUITES["raw.weather__observations"]
    assert entry.build(schedules()) is not entry.build(schedules())
    with pytest.raises(KeyError, match="schedule"):
        entry.build({})
    assert target("raw.weather__observations") == ("raw", "weather__observations")
    with pytest.raises(ValueError):
        target("weather__observations")


def test_division_codes_come_from_the_seed() -> None:
    codes = division_codes()
    assert len(codes) == 27
    assert "210381000000" in codes and all(c.startswith("210381") and len(c) == 12 for c in codes)
    rule = _rule(_built("raw.weather__stations"), "division_code_known_division")
    assert set(rule.value_set) == codes


def test_raw_ranges_skip_rows_the_bureau_flagged_wrong() -> None:
    suite = _built("raw.weather__observations")
    ranges = [e for e in suite.expectations if e.meta["rule_id"].endswith("_in_range")]

    assert {e.column for e in ranges} == set(PHYSICAL_LIMITS)
    for e in ranges:
        assert "qc" in json.dumps(e.row_condition.dict())


def test_mart_limits_come_from_the_raw_suite() -> None:
    precip = _rule(_built("marts.fct_weather_hourly_extremes"), "max_precip_1h_mm_in_range")
    assert (precip.min_value, precip.max_value) == PHYSICAL_LIMITS["precip_1h_mm"][:2]


@pytest.mark.parametrize(("schedule", "allowed"), [
    ("@hourly", timedelta(hours=2, minutes=15)),
    ("*/15 * * * *", timedelta(minutes=45)),
    ("*/30 * * * *", timedelta(hours=1, minutes=15)),
    ("30 1 * * *", timedelta(hours=48, minutes=15)),
])  # fmt: skip
def test_freshness_allows_one_missed_run(schedule: str, allowed: timedelta) -> None:
    assert freshness_allowance(schedule) == allowed


def _check_char(body17: str) -> str:
    """GB 32100-2015 §4.3, written out here so the test does not trust the validator it tests."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(body17, weights, strict=True))
    return alphabet[(31 - total % 31) % 31]


def test_credit_codes_are_judged_by_stdnum() -> None:
    assert _check_char(VALID_CODE[:17]) == VALID_CODE[17]
    assert verdict(VALID_CODE) == (True, None)
    wrong = VALID_CODE[:17] + ("0" if VALID_CODE[17] != "0" else "1")
    assert verdict(wrong)[0] is False
    # An 18-digit code that went through an Excel number (float64) loses its last digits.
    digits = "91210381" + "2118823" + "5" + "43"
    rounded = str(int(float(digits)))
    assert rounded != digits and verdict(rounded)[0] is False
    ok, why = verdict(VALID_CODE.lower())
    assert not ok and "compact" in why


def test_credit_codes_with_letters_where_gb_32100_allows_them() -> None:
    # GB 32100-2015 clause 4: characters 1-2 (registration authority, organisation type) may be letters
    # (N 农业, Y 其他); 3-8 are the division code's digits; every character is from the 31-character set.
    from stdnum.cn import uscc

    for body in ("N2210381MA0XXXXX1", "Y1210381MA0XXXXX2", "9A210381MADDYUDH1"):
        code = body + uscc.calc_check_digit(body)
        assert verdict(code) == (True, None), code
        wrong = body + ("0" if code[17] != "0" else "1")
        assert verdict(wrong) == (False, "check_character_mismatch")
    for forbidden in "IOSVZ":
        assert verdict(forbidden + "2210381MA0XXXXX14") == (False, "invalid_character")
    assert verdict("N221038AMA0XXXXX16") == (False, "non_digit_division_code")
    assert verdict("N2210381MA0XXXXX1") == (False, "wrong_length")


def test_samples_mask_personal_information() -> None:
    pii = frozenset({"caller_name_masked", "caller_phone_pseudonym"})
    row = {
        "alarm_id": "J1",
        "_batch_id": "b1",
        "caller_name_masked": "张*",
        "caller_phone_pseudonym": "phone_x",
        "x": None,
    }
    assert mask_row(row, pii) == {**row, "caller_name_masked": MASK, "caller_phone_pseudonym": MASK}
    entry = SUITES["raw.police__alarms"]
    assert {"caller_name_masked", "caller_phone_pseudonym", "caller_id_masked"} <= entry.pii_columns
    # A rule on a personal column: its values never reach the sample.
    sample = from_result(entry, "caller_name_masked", {"partial_unexpected_list": ["张*", "李*"]})
    assert sample == [MASK, MASK]
    rows = from_result(entry, "x", {"partial_unexpected_index_list": [row]})
    assert rows[0]["caller_name_masked"] == MASK and rows[0]["alarm_id"] == "J1"
    assert batches_of(rows) == ["b1"]


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
    # What `edp check` prints as a table or JSON: the same run, its datasets and each failed rule.
    report = run.as_dict()
    assert (report["verdict"], report["success"], report["passed"], report["evaluated"]) == ("BLOCKED", False, 1, 3)
    assert [d["status"] for d in report["datasets"]] == ["blocked"]
    assert [(f["severity"], f["rule"]) for f in report["failures"]] == [
        ("blocking", "precip_1h_mm_in_range"),
        ("warning", "station_id_format"),
    ]


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
