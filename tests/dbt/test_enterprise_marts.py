"""Enterprise marts on the stand-ins: sandbox (seed 42, scale 1) → raw → dbt → marts.

The sandbox's police, transport, natural-resources and bureau stand-ins are
ingested by the real pipeline; then three known rows are added to the newest
police key-units file (the stand-ins have no switch that renames a company):

- ``CONFLICT``: the credit code of a chemicals-register enterprise under a
  different name (and a civil-explosives storage licence) → one golden record,
  conflict_count 1, the conflict listed.
- ``VARIANT``: the code of another chemicals enterprise, its name written
  with 有限责任公司, full-width brackets and spaces → no conflict.
- ``BAD``: a code whose check character is wrong → in
  fct_enterprise_invalid_code with reason check_character_mismatch, not in
  dim_enterprise.
- ``LETTER``: a code whose registration authority and organisation type codes
  are letters/digits allowed by GB 32100-2015 clause 4 (N 农业, 2) and whose
  check character is right → a golden record like any other.

Every expected figure is computed here from the raw tables with plain SQL and
the platform's GB 32100 validator (``edp.quality.uscc.problem``: python-stdnum's
check character, letters allowed in characters 1-2), which is compared
character for character with the dbt macro and agrees with python-stdnum's
``is_valid`` on every code whose first two characters are digits.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from edp.orchestration.pipeline import ingest
from edp.quality.uscc import problem
from edp.sandbox.control import sandbox_down, sandbox_up
from edp.settings import Settings, reset_settings
from edp.storage.migrate import migrate_url
from edp.storage.warehouse import engine
from edp.transform.dbt_runner import DbtResult, run_dbt, target_path

uscc = pytest.importorskip("stdnum.cn.uscc")

SOURCES = ("bureau", "police", "transport", "natural_resources")
MARTS = (
    "dim_enterprise",
    "fct_enterprise_conflict",
    "fct_enterprise_invalid_code",
    "fct_hazmat_waybill",
    "fct_safety_hazard",
    "fct_major_hazard_identification",
)
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CONFLICT_NAME = "海城市测试冲突化工厂"
BAD_NAME = "海城市坏码民爆器材有限公司"
HAICHENG = "210381"
LETTER_NAME = "海城市测试村股份经济合作社"
LETTER_CODE = "N2210381MA0XXXXX14"  # N 农业, 2; check character 4 (stdnum.cn.uscc.calc_check_digit)

# The raw tables' current rows, as the staging models define "current" (written independently here).
LATEST_CODES = {
    "bureau_chemicals": """
        select credit_code as key, credit_code as code from raw.bureau__chemical_enterprises
        where workbook_version = (select workbook_version from raw.bureau__chemical_enterprises
                                  order by uploaded_at desc, _extracted_at desc limit 1)""",
    "bureau_safety_hazards": """
        select distinct on (hazard_code) hazard_code as key, credit_code as code from raw.bureau__safety_hazards
        where workbook_version = (select workbook_version from raw.bureau__safety_hazards
                                  order by uploaded_at desc, _extracted_at desc limit 1)
        order by hazard_code, row_number desc""",
    "police_key_units": """
        select license_no as key, credit_code as code from raw.police__key_units
        where (report_date, _batch_id) = (select report_date, _batch_id from raw.police__key_units
                                          order by report_date desc, _extracted_at desc limit 1)""",
    "transport_carriers": """
        select key, code from (select distinct on (credit_code) credit_code as key, credit_code as code, deleted
            from raw.transport__hazmat_carriers order by credit_code, updated_at desc, _extracted_at desc) c
        where not coalesce(deleted, false)""",
    "transport_waybill_carriers": "select waybill_no as key, carrier_credit_code as code from current_waybills",
    "transport_waybill_consignors": """
        select waybill_no as key, consignor_credit_code as code from current_waybills
        where consignor_credit_code is not null""",
    "natural_resources_mining": """
        select xkzh as key, tyshxydm as code from raw.natural_resources__mining_rights
        where _batch_id = (select _batch_id from raw.natural_resources__mining_rights
                           order by _extracted_at desc limit 1)""",
}
CURRENT_WAYBILLS = """
    with current_waybills as (
        select * from (select distinct on (waybill_no) * from raw.transport__hazmat_waybills
                       order by waybill_no, updated_at desc, _extracted_at desc) w
        where not coalesce(deleted, false)
    )
"""


@dataclass(frozen=True)
class Built:
    settings: Settings
    result: DbtResult
    as_of: date
    conflict_code: str
    conflict_registered_name: str
    variant_code: str
    variant_registered_name: str
    bad_code: str
    bad_licence: str


def _query(eng: sa.Engine, sql: str, **params: Any) -> list[sa.Row[Any]]:
    with eng.connect() as c:
        return list(c.execute(sa.text(sql), params))


def _current_codes(eng: sa.Engine) -> dict[tuple[str, str], str | None]:
    """(source, source key) → credit code as written, for every current source record."""
    codes: dict[tuple[str, str], str | None] = {}
    for source, sql in LATEST_CODES.items():
        prefix = CURRENT_WAYBILLS if "current_waybills" in sql else ""
        for key, code in _query(eng, prefix + sql):
            codes[(source, key)] = code
    return codes


def _compact(code: str | None) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def _is_valid(code: str) -> bool:
    """GB 32100-2015 clause 4 (the platform's validator); python-stdnum's where characters 1-2 are digits."""
    valid = problem(code) is None
    if code[:2].isdigit():
        assert valid == uscc.is_valid(code), code
    return valid


def _add_key_units(eng: sa.Engine, as_of: date) -> dict[str, str]:
    """Three known rows in the newest key-units file; returns the codes and names used."""
    chemicals = _query(
        eng,
        LATEST_CODES["bureau_chemicals"].replace(
            "select credit_code as key, credit_code as code", "select credit_code, enterprise_name, division_code"
        )
        + " order by row_number",
    )
    conflict = chemicals[0]
    variant = next(r for r in chemicals[1:] if r.enterprise_name.endswith("有限公司"))
    carrier = _query(eng, "select credit_code from raw.transport__hazmat_carriers order by credit_code limit 1")[0][0]
    wrong = next(c for c in CHARSET if c != carrier[-1])
    bad = carrier[:-1] + wrong
    bracketed = variant.enterprise_name.replace("海城市", "海城市（").replace("有限公司", "）有限责任公司")
    variant_name = f"　{bracketed} "
    rows = [
        (CONFLICT_NAME, conflict.credit_code, "民用爆炸物品储存", "TEST-CONFLICT", conflict.division_code),
        (variant_name, variant.credit_code, "易制爆危险化学品", "TEST-VARIANT", variant.division_code),
        (BAD_NAME, bad, "民用爆炸物品使用", "TEST-BAD", "210381107000"),
        (LETTER_NAME, LETTER_CODE, "民用爆炸物品使用", "TEST-LETTER", "210381107000"),
    ]
    with eng.begin() as c:
        latest = c.execute(
            sa.text(
                "select report_date, _batch_id, license_no from raw.police__key_units"
                " order by report_date desc, _extracted_at desc limit 1"
            )
        ).one()
        columns = [
            r[0]
            for r in c.execute(
                sa.text(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'raw' and table_name = 'police__key_units' order by ordinal_position"
                )
            )
        ]
        overrides = {
            "unit_name": ":name",
            "credit_code": ":code",
            "license_type": ":kind",
            "license_no": ":no",
            "division_code": ":division",
            "valid_until": ":valid",
            "source_row": ":row",
        }
        select = ", ".join(overrides.get(col, col) for col in columns)
        for i, (name, code, kind, no, division) in enumerate(rows):
            c.execute(
                sa.text(
                    f"insert into raw.police__key_units ({', '.join(columns)}) select {select}"
                    " from raw.police__key_units where license_no = :template and _batch_id = :batch"
                ),
                {
                    "name": name,
                    "code": code,
                    "kind": kind,
                    "no": no,
                    "division": division,
                    "valid": as_of + timedelta(days=365),
                    "row": 9001 + i,
                    "template": latest.license_no,
                    "batch": latest._batch_id,
                },
            )
    return {
        "conflict_code": conflict.credit_code,
        "conflict_registered_name": conflict.enterprise_name,
        "variant_code": variant.credit_code,
        "variant_registered_name": variant.enterprise_name,
        "bad_code": bad,
        "bad_licence": "TEST-BAD",
    }


@pytest.fixture(scope="module")
def built(pg_admin: sa.Engine | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """One isolated platform for the module: sandbox → ingest → known rows → dbt build +tag:enterprise."""
    if pg_admin is None:
        pytest.skip("needs the PostgreSQL server on 127.0.0.1:5432")
    home = tmp_path_factory.mktemp("enterprise") / "edp-home"
    home.mkdir()
    name = f"edp_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    url = sa.make_url(pg_admin.url).set(database=name).render_as_string(hide_password=False)
    migrate_url(url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDP_HOME", str(home))
        mp.setenv("EDP_WAREHOUSE_URL", url.replace("postgresql+psycopg://", "postgresql://"))
        for var in ("EDP_LAKE_URL", "EDP_ANSHAN_URL", "EDP_SOURCE_WEATHER_URL"):
            mp.delenv(var, raising=False)
        reset_settings()
        settings = Settings()
        try:
            sandbox_up(settings, seed=42, scale=1.0)
            try:
                for source in SOURCES:
                    ingest(source, settings)
            finally:
                sandbox_down(settings)
            as_of = datetime.now(ZoneInfo("Asia/Shanghai")).date()
            known = _add_key_units(engine(settings), as_of)
            result = run_dbt(
                settings,
                [
                    "build",
                    "--select",
                    "+tag:enterprise",
                    "--vars",
                    json.dumps({"enterprise_as_of_date": as_of.isoformat()}),
                ],
            )
            yield Built(settings, result, as_of, **known)
        finally:
            reset_settings()
            from edp.storage import warehouse

            warehouse._engine_for.cache_clear()
            with pg_admin.connect() as c:
                c.execute(sa.text(f'drop database if exists "{name}" with (force)'))


@pytest.fixture(scope="module")
def eng(built: Built) -> sa.Engine:
    return engine(built.settings)


@pytest.mark.integration
def test_build_is_green(built: Built) -> None:
    assert built.result.success, built.result.summary()
    assert not [n.unique_id for n in built.result.nodes if n.status == "warn"]
    names = {n.name for n in built.result.nodes}
    assert set(MARTS) <= names
    # the GB 32100 unit tests (letters in characters 1-2, forbidden characters, check characters) ran and passed
    assert {"test_int_enterprise_mentions_unioned_gb32100", "test_fct_enterprise_invalid_code_gb32100_reasons"} <= names
    print(f"dbt build --select +tag:enterprise: {built.result.elapsed_seconds:.1f} s")


@pytest.mark.integration
def test_marts_have_enforced_contracts_and_descriptions(built: Built) -> None:
    manifest = json.loads((target_path(built.settings) / "manifest.json").read_text(encoding="utf-8"))
    for mart in MARTS:
        node = manifest["nodes"][f"model.haicheng_edp.{mart}"]
        assert node["contract"]["enforced"], mart
        assert node["config"]["schema"] == "marts"
        assert node["config"]["materialized"] == ("incremental" if mart == "fct_hazmat_waybill" else "table"), mart
        assert re.search(r"[\u4e00-\u9fff]", node["description"]) and re.search(r"[A-Za-z]{4}", node["description"])
        for column in node["columns"].values():
            assert column["data_type"], (mart, column["name"])
            assert re.search(r"[\u4e00-\u9fff]", column["description"]), (mart, column["name"])
            assert re.search(r"[A-Za-z]{3}", column["description"]), (mart, column["name"])


@pytest.mark.integration
def test_golden_records_are_the_valid_codes(built: Built, eng: sa.Engine) -> None:
    codes = _current_codes(eng)
    valid = {_compact(c) for c in codes.values() if _is_valid(_compact(c))}
    dim = {r[0] for r in _query(eng, "select enterprise_id from marts.dim_enterprise")}
    assert dim == valid
    assert built.bad_code not in dim
    assert LETTER_CODE in dim


@pytest.mark.integration
def test_invalid_codes_match_stdnum(built: Built, eng: sa.Engine) -> None:
    codes = _current_codes(eng)
    expected = {key for key, code in codes.items() if not _is_valid(_compact(code))}
    rows = _query(
        eng, "select source, source_key, credit_code_raw, reason, reason_detail from marts.fct_enterprise_invalid_code"
    )
    assert {(r.source, r.source_key) for r in rows} == expected
    # 10 hazard rows whose all-digit codes Excel turned into numbers, and the known bad key unit.
    assert len(rows) == 11
    bad = next(r for r in rows if r.source_key == built.bad_licence)
    assert (bad.source, bad.credit_code_raw, bad.reason) == (
        "police_key_units",
        built.bad_code,
        "check_character_mismatch",
    )
    assert f"校验码应为 {uscc.calc_check_digit(built.bad_code)}" in bad.reason_detail
    suggested = _query(
        eng,
        "select count(*) from marts.fct_enterprise_invalid_code"
        " where source = 'bureau_safety_hazards' and suggested_enterprise_id is not null",
    )
    assert suggested[0][0] == 10


@pytest.mark.integration
def test_two_names_one_golden_record_with_its_conflict(built: Built, eng: sa.Engine) -> None:
    dim = _query(
        eng,
        "select * from marts.dim_enterprise where enterprise_id in (:a, :b)",
        a=built.conflict_code,
        b=built.variant_code,
    )
    by_id = {r.enterprise_id: r for r in dim}
    conflicted, variant = by_id[built.conflict_code], by_id[built.variant_code]
    assert conflicted.enterprise_name == built.conflict_registered_name
    assert conflicted.enterprise_name_source == "bureau_chemicals"
    assert conflicted.conflict_count == 1
    assert conflicted.has_civil_explosives_licence and conflicted.is_in_chemicals_register
    assert "police_key_units" in conflicted.source_systems.split(",")
    # 有限责任公司, full-width brackets and spaces are the same name: no conflict.
    assert variant.conflict_count == 0 and variant.enterprise_name == built.variant_registered_name
    assert not variant.has_civil_explosives_licence
    conflicts = _query(
        eng, "select enterprise_id, attribute, source_a, value_a, source_b, value_b from marts.fct_enterprise_conflict"
    )
    assert [tuple(r) for r in conflicts] == [
        (
            built.conflict_code,
            "enterprise_name",
            "bureau_chemicals",
            built.conflict_registered_name,
            "police_key_units",
            CONFLICT_NAME,
        )
    ]
    total = _query(eng, "select sum(conflict_count) from marts.dim_enterprise")[0][0]
    assert total == 1


@pytest.mark.integration
def test_flags_match_raw(eng: sa.Engine) -> None:
    mining = _query(
        eng,
        LATEST_CODES["natural_resources_mining"].replace(
            "select xkzh as key, tyshxydm as code", "select distinct tyshxydm"
        )
        + " and zt = '有效'",
    )
    carriers = _query(
        eng,
        CURRENT_WAYBILLS + "select count(*) from (select carrier_credit_code from current_waybills"
        " union select key from (" + LATEST_CODES["transport_carriers"] + ") as c) as u",
    )
    flags = _query(
        eng,
        "select count(*) filter (where is_mining) as mining,"
        " count(*) filter (where is_hazmat_carrier) as carriers from marts.dim_enterprise",
    )[0]
    assert flags.mining == len(mining)
    assert flags.carriers == carriers[0][0]


@pytest.mark.integration
def test_major_hazard_identification_matches_raw(eng: sa.Engine) -> None:
    """GB 18218-2018 on the register's current rows, checked against the raw text independently of the models."""
    raw = _query(
        eng,
        "select distinct on (credit_code) credit_code, main_chemicals, max_storage_t, enterprise_name"
        " from raw.bureau__chemical_enterprises where workbook_version = (select workbook_version"
        " from raw.bureau__chemical_enterprises order by uploaded_at desc, _extracted_at desc limit 1)"
        " and credit_code is not null order by credit_code, row_number desc nulls last",
    )
    mart = {r.enterprise_id: r for r in _query(eng, "select * from marts.fct_major_hazard_identification")}
    assert set(mart) == {r.credit_code for r in raw}
    levels = ["无", "四级", "三级", "二级", "一级"]
    for r in raw:
        m = mart[r.credit_code]
        text = unicodedata.normalize("NFKC", r.main_chemicals or "")
        items = [i for i in re.split(r"[;、]", text) if i.strip()]
        unknown = sum("复配清洗助剂" in i for i in items)
        assert m.chemical_item_count == len(items) and m.unidentified_chemical_count == unknown, r
        if len(items) > 1 and not re.search(r"[0-9]", text):
            assert m.identification_status == "quantities_not_itemised" and m.s_value is None, r
            assert m.grade_disagrees is None
            continue
        assert m.is_computable and m.s_value is not None and m.computed_level in levels, r
        if r.enterprise_name.endswith("加油站") and r.max_storage_t < 200:
            assert m.computed_level == "无" and not m.is_major_hazard, r  # a petrol station under 200 t
        if re.fullmatch(r"液氯(\(7782-50-5\))? 5\.2(t|吨)", text):
            assert float(m.s_value) == 1.04 and m.is_major_hazard and m.computed_level == "四级", r
        if m.grade_disagrees:  # the stand-in's deliberate disagreements are one level off
            assert abs(levels.index(m.computed_level) - levels.index(m.declared_level)) == 1, r
    disagreeing = sum(bool(m.grade_disagrees) for m in mart.values())
    assert 0 < disagreeing <= len(mart) // 8
    assert any(
        re.fullmatch(r"液氯(\(7782-50-5\))? 5\.2(t|吨)", unicodedata.normalize("NFKC", r.main_chemicals or ""))
        for r in raw
    )
    assert {m.alpha_basis for m in mart.values()} == {"division_density_estimate"}


@pytest.mark.integration
def test_overdue_rectifications_match_raw(built: Built, eng: sa.Engine) -> None:
    hazards = _query(
        eng,
        LATEST_CODES["bureau_safety_hazards"].replace(
            "hazard_code as key, credit_code as code",
            "hazard_code, deadline_date, rectification_status, hazard_level, supervision_level",
        ),
    )
    overdue = [
        h
        for h in hazards
        if h.deadline_date and h.deadline_date < built.as_of and h.rectification_status not in ("已整改", "已销号")
    ]
    supervised = [
        h
        for h in hazards
        if h.hazard_level == "重大事故隐患"
        and h.supervision_level in ("市级", "镇级")
        and h.rectification_status != "已销号"
    ]
    mart = _query(
        eng,
        "select count(*), count(*) filter (where is_overdue),"
        " count(*) filter (where closed_loop_status = 'overdue'),"
        " count(*) filter (where is_major_under_supervision),"
        " count(*) filter (where enterprise_id is null), min(as_of_date)"
        " from marts.fct_safety_hazard",
    )[0]
    assert tuple(mart) == (len(hazards), len(overdue), len(overdue), len(supervised), 0, built.as_of)
    assert overdue, "the stand-in always has overdue findings"


@pytest.mark.integration
def test_waybill_flows_match_raw(eng: sa.Engine) -> None:
    waybills = _query(
        eng, CURRENT_WAYBILLS + "select origin_division_code as o, destination_division_code as d from current_waybills"
    )
    expected: dict[str, int] = {}
    for w in waybills:
        inside = (w.o.startswith(HAICHENG), w.d.startswith(HAICHENG))
        flow = {(True, True): "within", (False, True): "inbound", (True, False): "outbound"}.get(inside, "through")
        expected[flow] = expected.get(flow, 0) + 1
    mart = dict(_query(eng, "select flow_direction, count(*) from marts.fct_hazmat_waybill group by 1"))
    assert mart == expected
    assert set(mart) == {"within", "inbound", "outbound", "through"}
    unmapped = _query(
        eng,
        "select count(*) filter (where not is_hazard_class_mapped),"
        " count(*) filter (where carrier_enterprise_id is null) from marts.fct_hazmat_waybill",
    )[0]
    counted = _query(
        eng,
        "select coalesce(sum(row_count), 0) from intermediate.int_enterprise__unmapped_codes"
        " where column_name = 'hazard_class'",
    )[0][0]
    assert tuple(unmapped) == (counted, 0)


@pytest.mark.integration
def test_every_code_column_resolves_or_is_counted(eng: sa.Engine) -> None:
    unmapped = _query(eng, "select unmapped_code_id from intermediate.int_enterprise__unmapped_codes")
    assert unmapped == []
    levels = _query(
        eng,
        "select count(*) from marts.dim_enterprise d left join ref.ref_major_hazard_levels l"
        " on d.major_hazard_level = l.level_code"
        " where d.major_hazard_level is not null and l.level_code is null",
    )
    assert levels[0][0] == 0


def _synthetic_codes() -> list[str]:
    """Valid codes, each corrupted in its check character, and malformed ones (fixed seed)."""
    r = random.Random(32100)
    codes = []
    for _ in range(120):
        body = "91" + "".join(r.choice("0123456789") for _ in range(6)) + "".join(r.choice(CHARSET) for _ in range(9))
        check = uscc.calc_check_digit(body)
        codes += [body + check, body + r.choice(CHARSET.replace(check, ""))]
    codes += [
        "91210381MADDYUDH1",
        "91210381MADDYUDH1XX",
        "9A210381MADDYUDH1X",
        "91210381MADDYUDHIX",
        "91210381maddyudh1x",
        "9121 0381-MADD YUDH1X",
        "91210381MADDYUDH1Z",
        "",
    ]
    # GB 32100-2015 clause 4: letters as registration authority / organisation type codes, valid and corrupted
    for first in "15689ANY":
        body = first + r.choice(CHARSET[1:]) + HAICHENG + "".join(r.choice(CHARSET) for _ in range(9))
        check = uscc.calc_check_digit(body)
        codes += [body + check, body + r.choice(CHARSET.replace(check, ""))]
    codes += [LETTER_CODE, "N2210381MA0XXXXX15", "Z1210381MA0XXXXX14", "NO210381MA0XXXXX14", "N221038AMA0XXXXX16"]
    return codes


@pytest.mark.integration
def test_sql_macro_agrees_with_the_python_validator(built: Built) -> None:
    codes = _synthetic_codes()
    values = ", ".join(f"('{c}')" for c in codes)
    sql = (
        "select code, {{ enterprise_credit_code_invalid_reason(enterprise_normalize_credit_code('code')) }} as reason"
        f" from (values {values}) as v (code)"
    )
    result = run_dbt(built.settings, ["show", "--inline", sql, "--output", "json", "--limit", "-1"])
    text = Path(result.log_file).read_text(encoding="utf-8")
    shown = json.loads(text[text.index("{\n") : text.rindex("}") + 1])["show"]
    reasons = {row["code"]: row["reason"] for row in shown}
    assert len(reasons) == len(codes)
    for code in codes:
        compact = _compact(code)
        assert reasons[code] == (problem(compact) if compact else "missing"), (code, reasons[code])
        assert not compact or (reasons[code] is None) == _is_valid(compact), (code, reasons[code])
    assert reasons[LETTER_CODE] is None and reasons["N2210381MA0XXXXX15"] == "check_character_mismatch"
    assert reasons["Z1210381MA0XXXXX14"] == reasons["NO210381MA0XXXXX14"] == "invalid_character"
    assert reasons["N221038AMA0XXXXX16"] == "non_digit_division_code"
