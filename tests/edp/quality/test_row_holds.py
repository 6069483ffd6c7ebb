"""Row-level quality holds back records, not datasets: a few invalid credit codes among the chemical enterprises.

The bureau's stand-in writes its registers into an inbox of this test's own;
the platform ingests them into a per-test warehouse, then three enterprises
with a major hazard get a credit code whose check character is wrong (as a
clerk's typo would) and one enterprise already at the city is moved out of
海城市. The enterprise and hazard-site marts are built from raw here (the
transform is not under test: the marts carry whatever raw holds, keyed as
dbt keys them). The sync sends to the Anshan stand-in.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from standins.bureau import populate
from standins.server import RunningServer
from typer.testing import CliRunner

from edp.cli import app
from edp.exchange.sync import held, status, sync
from edp.orchestration.pipeline import ingest
from edp.quality.holds import held_records
from edp.quality.report import build_report
from edp.quality.report_html import render
from edp.quality.runner import dataset_status, run_checks
from edp.settings import Settings
from edp.storage.warehouse import engine
from tests.support.sources import point_at
from tests.support.standin_servers import city_records

pytestmark = pytest.mark.integration

RAW = "raw.bureau__chemical_enterprises"
MAJOR = "('一级', '二级', '三级', '四级')"


def _marts(s: Settings) -> None:
    """dim_enterprise and dim_hazard_site from raw's latest register version, keyed as dbt keys them."""
    latest = (
        f"select distinct on (credit_code) * from {RAW} order by credit_code, uploaded_at desc, workbook_version desc"
    )
    with engine(s).begin() as c:
        c.execute(sa.text("drop table if exists marts.dim_enterprise, marts.dim_hazard_site"))
        c.execute(sa.text("create table marts.dim_enterprise as select credit_code as enterprise_id, "
                          f"enterprise_name, lon, lat from ({latest}) l"))  # fmt: skip
        c.execute(
            sa.text(
                "create table marts.dim_hazard_site as select 'major_hazard_enterprise:' || credit_code || "
                "'@2026-11-01T00:00:00.000000' as site_version_id, 'major_hazard_enterprise:' || credit_code "
                "as site_id, enterprise_name as name, major_hazard_level as risk_level, lon, lat, "
                "cast(null as timestamptz) as valid_to "
                f"from ({latest}) l where major_hazard_level in {MAJOR}"
            )
        )


def _sql(s: Settings, statement: str, **params: object) -> list[sa.Row[object]]:
    with engine(s).begin() as c:
        result = c.execute(sa.text(statement), params)
        return list(result) if result.returns_rows else []


def test_invalid_credit_codes_hold_back_only_their_enterprises_and_sites(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anshan_city: Callable[..., RunningServer]
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    city = anshan_city(timeout_seconds=5).url  # sets EDP_ANSHAN_URL: before the Settings are made
    s = point_at(monkeypatch, "bureau", folder.as_uri())
    now = datetime.now(UTC)
    populate(folder, seed=11, scale=0.5, uploaded_at=now - timedelta(hours=1))
    assert ingest("bureau", s, until=now)["quarantined"] == 0

    # 1. Three major-hazard enterprises arrive with a wrong check character (a clerk's typo).
    picked = f"select distinct credit_code from {RAW} where major_hazard_level in {MAJOR} order by 1 limit 3"
    bad = [r.credit_code for r in _sql(s, picked)]
    typo = {code: code[:17] + ("1" if code[17] == "0" else "0") for code in bad}
    for code, wrong in typo.items():
        _sql(s, f"update {RAW} set credit_code = :w where credit_code = :c", w=wrong, c=code)
    _marts(s)
    checked = run_checks(s, [RAW], full=True)
    assert checked.datasets[RAW].status == "held" and checked.datasets[RAW].held_rows == 3, checked.summary_lines()
    assert dataset_status(s, [RAW]) == {RAW: "held"}

    # Only those are held back: the rest of both datasets reaches the city.
    result = {r.dataset: r for r in sync(s, ["enterprises", "hazard_sites"])}
    assert result["enterprises"].blocked is None and result["hazard_sites"].blocked is None
    assert result["enterprises"].diff["held"] == 3 and result["hazard_sites"].diff["held"] == 3
    mart = {r.enterprise_id for r in _sql(s, "select enterprise_id from marts.dim_enterprise")}
    mart_sites = {r.site_id for r in _sql(s, "select site_id from marts.dim_hazard_site")}
    enterprises, sites = city_records(city, "enterprises"), city_records(city, "hazard_sites")
    assert set(enterprises) == mart - set(typo.values())
    assert set(sites) == mart_sites - {f"major_hazard_enterprise:{w}" for w in typo.values()}

    # Shown by the sync status, listed with rule and key, and in the auditor's report.
    by_dataset = {r["dataset"]: r for r in status(s)}
    assert by_dataset["enterprises"]["withheld"] == 3 and by_dataset["hazard_sites"]["withheld"] == 3
    listed = held(s, ["enterprises"])
    assert {(h["record_id"], h["rule"], h["held_in"]) for h in listed} == {
        (wrong, "credit_code_valid", RAW) for wrong in typo.values()
    }
    exported = tmp_path / "held.csv"
    cli = CliRunner().invoke(app, ["sync", "status", "--held", "--csv", str(exported)])
    assert cli.exit_code == 0, cli.output
    with exported.open(encoding="utf-8-sig", newline="") as fh:
        assert {(r["record_id"], r["rule"]) for r in csv.DictReader(fh) if r["dataset"] == "enterprises"} == {
            (wrong, "credit_code_valid") for wrong in typo.values()
        }
    today = datetime.now(UTC).date()
    report = build_report(s, today - timedelta(days=1), today + timedelta(days=1))
    section = {(h["rule"], h["dataset"], h["key"]["credit_code"]) for h in report["holds"]}
    assert section == {("credit_code_valid", RAW, wrong) for wrong in typo.values()}
    html = render(report)
    assert "扣留记录" in html and all(wrong in html for wrong in typo.values())

    # 2. An enterprise already at the city is moved out of Haicheng: held where it is, not deleted.
    moved = sorted(enterprises)[-1]
    _sql(s, f"update {RAW} set lon = 100.0 where credit_code = :c", c=moved)
    _marts(s)
    checked = run_checks(s, [RAW], full=True)
    assert {(h["rule_id"], h["record_key"]["credit_code"]) for h in held_records(s, [RAW])} == {
        *(("credit_code_valid", wrong) for wrong in typo.values()),
        ("location_in_haicheng", moved),
    }
    result = {r.dataset: r for r in sync(s, ["enterprises"])}
    assert result["enterprises"].diff == {"upsert": 0, "delete": 0, "unchanged": len(mart) - 4, "held": 4}
    assert city_records(city, "enterprises") == enterprises

    # 3. The bureau corrects them: the holds are released and the corrected records go out.
    for code, wrong in typo.items():
        _sql(s, f"update {RAW} set credit_code = :c where credit_code = :w", w=wrong, c=code)
    _sql(s, f"update {RAW} set lon = 122.75 where credit_code = :c", c=moved)
    _marts(s)
    fixed = run_checks(s, [RAW], full=True)
    assert fixed.success and dataset_status(s, [RAW]) == {RAW: "ok"}, fixed.summary_lines()
    assert held_records(s, [RAW]) == []
    result = {r.dataset: r for r in sync(s, ["enterprises", "hazard_sites"])}
    assert "held" not in result["enterprises"].diff and result["enterprises"].diff["delete"] == 0
    at_city = city_records(city, "enterprises")
    assert set(at_city) == {r.enterprise_id for r in _sql(s, "select enterprise_id from marts.dim_enterprise")}
    assert set(typo) <= set(at_city) and at_city[moved]["data"]["lon"] == 122.75
    assert set(city_records(city, "hazard_sites")) >= {f"major_hazard_enterprise:{c}" for c in typo}
    assert not {h["dataset"] for h in status(s) if h.get("withheld")}
