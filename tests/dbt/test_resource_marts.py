"""Resource marts (应急资源) on the sandbox: exact figures derived independently from raw.

One module-scoped build: the sandbox (seed 42, scale 1) is started, the bureau
registers and the natural-resources layers are ingested, a second version of
the material-stock register is uploaded and ingested (the marts must use it,
not version 1), and one shelter with a class and a division code that map to
nothing is added to raw (it must be kept and counted, never dropped). Then
``dbt build --select +tag:resource`` runs (cautious indirect selection) with
a fixed ``as_of_date``; the
readiness models are run a second time at a very low speed so that the
10-hour flag takes both values.

Expected figures come from the raw tables with plain SQL and Python: the
workbook version is identified by the sha256 of the uploaded file, the
haversine distance is computed here.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from edp.orchestration.pipeline import ingest
from edp.sandbox.control import sandbox_down, sandbox_up
from edp.settings import REPO_ROOT, Settings, reset_settings
from edp.storage.migrate import migrate_url
from edp.storage.warehouse import engine
from edp.transform.dbt_runner import DbtResult, run_dbt

pytestmark = pytest.mark.integration

CST = ZoneInfo("Asia/Shanghai")
AS_OF = datetime.now(CST).date()
EXPIRING_DAYS = 90
EARTH_RADIUS_KM = 6371.0088
ROAD_FACTOR = 1.3
SPEED_KMH = 40.0
SLOW_SPEED_KMH = 0.2  # 10 h → 2 km by road → about 1.54 km in a straight line
TARGET_HOURS = 10.0
BAD_SHELTER = "210381BN999"
BAD_CLASS = "Ⅳ类"
BAD_DIVISION = "210381999000"
MARTS = (
    "dim_resource_site",
    "fct_material_stock",
    "fct_division_readiness",
    "fct_division_relief_reach",
    "fct_village_informant_coverage",
)
DISPLACED_SHARE = 0.02  # dbt var relief_displaced_share
PLAN_STATION_TOWNS = {"南台镇", "牛庄镇", "孤山镇", "高坨镇"}  # 十四五规划: 南台、牛庄、孤山、高坨子


@dataclass
class Built:
    settings: Settings
    result: DbtResult
    stock_version: str  # sha256 of the uploaded version 2 of 应急物资储备台账.xlsx
    marts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    slow_readiness: list[dict[str, Any]] = field(default_factory=list)
    slow_relief: list[dict[str, Any]] = field(default_factory=list)
    unmapped: list[dict[str, Any]] = field(default_factory=list)

    def query(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with engine(self.settings).connect() as c:
            return [dict(r) for r in c.execute(sa.text(sql), params).mappings()]


def _rows(settings: Settings, relation: str) -> list[dict[str, Any]]:
    with engine(settings).connect() as c:
        return [dict(r) for r in c.execute(sa.text(f"select * from {relation}")).mappings()]


def _add_unmappable_shelter(settings: Settings) -> None:
    """A copy of shelter 210381BN001 in the same snapshot, with a class and a division that do not exist."""
    with engine(settings).begin() as c:
        cols = [
            r[0]
            for r in c.execute(
                sa.text(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'raw' and table_name = 'natural_resources__shelters'"
                    " order by ordinal_position"
                )
            )
        ]
        override = {"bncsbh": ":id", "lb": ":lb", "xzqh": ":div", "feature_id": "'shelters.999'"}
        select = ", ".join(override.get(col, f'"{col}"') for col in cols)
        names = ", ".join(f'"{col}"' for col in cols)
        c.execute(
            sa.text(
                f"insert into raw.natural_resources__shelters ({names}) select {select}"
                " from raw.natural_resources__shelters where bncsbh = '210381BN001'"
            ),
            {"id": BAD_SHELTER, "lb": BAD_CLASS, "div": BAD_DIVISION},
        )


@pytest.fixture(scope="module")
def built(pg_admin: sa.Engine | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    home = tmp_path_factory.mktemp("resource") / "edp-home"
    home.mkdir()
    db = f"edp_test_{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDP_HOME", str(home))
        for var in ("EDP_WAREHOUSE_URL", "EDP_LAKE_URL", "EDP_ANSHAN_URL", "EDP_SOURCE_WEATHER_URL"):
            mp.delenv(var, raising=False)
        if pg_admin is not None:
            with pg_admin.connect() as c:
                c.execute(sa.text(f'create database "{db}"'))
            url = pg_admin.url.set(database=db).render_as_string(hide_password=False)
            migrate_url(url)
            mp.setenv("EDP_WAREHOUSE_URL", url.replace("postgresql+psycopg://", "postgresql://"))
        reset_settings()
        settings = Settings()
        try:
            yield _build(settings)
        finally:
            reset_settings()
            from edp.storage import warehouse

            warehouse._engine_for.cache_clear()
            if pg_admin is not None:
                with pg_admin.connect() as c:
                    c.execute(sa.text(f'drop database if exists "{db}" with (force)'))


def _build(settings: Settings) -> Built:
    from standins.bureau import upload_version

    urls = sandbox_up(settings, seed=42, scale=1.0)
    try:
        ingest("bureau", settings)
        ingest("natural_resources", settings)
        inbox = Path(urls["bureau_url"])
        first = datetime.fromtimestamp((inbox / "应急物资储备台账.xlsx").stat().st_mtime, UTC)
        v2 = upload_version(
            inbox,
            "material_stock",
            seed=42,
            scale=1.0,
            version=2,
            base_date=first.astimezone(CST).date(),
            uploaded_at=datetime.now(UTC),
        )
        ingest("bureau", settings)
    finally:
        sandbox_down(settings)
    _add_unmappable_shelter(settings)

    as_of = {"as_of_date": AS_OF.isoformat()}
    # cautious: the other domains' tests that merely touch a shared seed (ref_divisions) are not run on
    # models this selection does not build (eager selection would run them and fail on a fresh database).
    result = run_dbt(
        settings,
        ["build", "--select", "+tag:resource", "--indirect-selection", "cautious", "--vars", json.dumps(as_of)],
    )
    out = Built(settings, result, hashlib.sha256(Path(v2["path"]).read_bytes()).hexdigest())
    out.marts = {name: _rows(settings, f"marts.{name}") for name in MARTS}
    out.unmapped = _rows(settings, "intermediate.int_resource__unmapped_codes")
    slow = {**as_of, "reserve_travel_speed_kmh": SLOW_SPEED_KMH}
    slow_models = (
        "int_division_reserve_reach_estimated int_division_depot_travel_estimated"
        " int_division_relief_quantities_reached fct_division_relief_reach fct_division_readiness"
    )
    run_dbt(settings, ["run", "--select", slow_models, "--vars", json.dumps(slow)])
    out.slow_readiness = _rows(settings, "marts.fct_division_readiness")
    out.slow_relief = _rows(settings, "marts.fct_division_relief_reach")
    return out


# -- independent derivations ---------------------------------------------------------------------------------
def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def towns() -> dict[str, str]:
    with (REPO_ROOT / "dbt" / "seeds" / "ref_divisions.csv").open(encoding="utf-8") as f:
        return {r["code12"]: r["name"] for r in csv.DictReader(f) if r["level"] == "town"}


def stock_rows(b: Built) -> list[dict[str, Any]]:
    return b.query("select * from raw.bureau__material_stock where workbook_version = :v", v=b.stock_version)


def latest_register(b: Built, table: str) -> list[dict[str, Any]]:
    """Rows of the register's only workbook version (these registers were uploaded once)."""
    rows = b.query(f"select * from raw.bureau__{table}")
    assert len({r["workbook_version"] for r in rows}) == 1
    return rows


def expected_reach(b: Built, speed: float) -> dict[str, tuple[str | None, float | None, bool | None]]:
    """Per town: (nearest depot holding stock, straight-line km, reachable within 10 h)."""
    depots: dict[str, dict[str, Any]] = {}
    for r in sorted(stock_rows(b), key=lambda r: r["row_number"]):
        d = depots.setdefault(r["depot_code"], {"lon": r["lon"], "lat": r["lat"], "stock": False})
        d["stock"] = d["stock"] or (r["quantity"] or 0) > 0
    stocked = {code: d for code, d in depots.items() if d["stock"] and d["lon"] is not None}
    centres = {r["division_code"]: r for r in latest_register(b, "division_facts")}
    out: dict[str, tuple[str | None, float | None, bool | None]] = {}
    for code in towns():
        c = centres.get(code)
        if c is None or c["center_lon"] is None:
            out[code] = (None, None, None)
            continue
        km, depot = min(
            (haversine_km(c["center_lon"], c["center_lat"], d["lon"], d["lat"]), k) for k, d in stocked.items()
        )
        out[code] = (f"depot:{depot}", km, km * ROAD_FACTOR / speed <= TARGET_HOURS)
    return out


# -- tests -----------------------------------------------------------------------------------------------------
def test_build_passes_with_unit_tests(built: Built) -> None:
    assert built.result.success
    units = [n for n in built.result.nodes if n.resource_type == "unit_test"]
    assert len(units) >= 4 and all(n.status == "pass" for n in units)
    # Only the staging checks that see the unmappable shelter warn (counted, not fatal there).
    warned = sorted(n.unique_id for n in built.result.nodes if n.status == "warn")
    assert len(warned) == 2 and all(".relationships_stg_natural_reso" in w for w in warned), warned


def test_marts_have_enforced_contracts(built: Built) -> None:
    manifest = json.loads((built.result.target_path / "manifest.json").read_text(encoding="utf-8"))
    for name in MARTS:
        node = manifest["nodes"][f"model.haicheng_edp.{name}"]
        assert node["config"]["contract"]["enforced"] is True
        assert node["description"] and all(c["data_type"] and c["description"] for c in node["columns"].values())
        assert set(node["columns"]) == set(built.marts[name][0])


def test_stock_uses_the_latest_version_with_exact_shortfall_and_expiry(built: Built) -> None:
    raw = stock_rows(built)
    mart = {r["material_stock_id"]: r for r in built.marts["fct_material_stock"]}
    assert len(raw) == len(mart) == 311
    assert {r["workbook_version"] for r in mart.values()} == {built.stock_version}
    horizon = AS_OF + timedelta(days=EXPIRING_DAYS)
    for r in raw:
        row = mart[f"{r['depot_code']}|{r['material_code']}|{r['spec'] or ''}"]
        stock, required, expiry = r["quantity"], r["standard_quantity"], r["expiry_date"]
        assert (row["stock_quantity"], row["required_quantity"]) == (stock, required)
        assert row["shortfall_quantity"] == max(required - stock, 0)
        assert row["is_below_required"] is (stock < required)
        assert row["is_expired"] is (expiry is not None and expiry < AS_OF)
        assert row["is_expiring"] is (expiry is not None and AS_OF <= expiry <= horizon)
        assert row["material_class_code"] == r["material_code"][0]
        assert row["as_of_date"] == AS_OF
    # Not vacuous: the sandbox holds items below standard, expired and expiring.
    below = [r for r in mart.values() if r["is_below_required"]]
    assert below and all(r["shortfall_quantity"] == r["required_quantity"] - r["stock_quantity"] > 0 for r in below)
    assert any(r["expiry_status"] == "expired" for r in mart.values())
    assert any(r["expiry_status"] == "expiring" for r in mart.values())


def test_version_two_replaced_version_one(built: Built) -> None:
    changed = built.query(
        "select count(*) as n from raw.bureau__material_stock v1 join raw.bureau__material_stock v2"
        " using (depot_code, material_code, spec)"
        " where v2.workbook_version = :v and v1.workbook_version <> :v and v1.quantity <> v2.quantity",
        v=built.stock_version,
    )[0]["n"]
    assert changed > 0  # so the exact figures above could only come from version 2


def test_resource_sites(built: Built) -> None:
    sites = {r["resource_site_id"]: r for r in built.marts["dim_resource_site"]}
    depots = {r["depot_code"] for r in stock_rows(built)}
    shelters = built.query("select * from raw.natural_resources__shelters")
    teams = latest_register(built, "rescue_teams")
    assert len(sites) == len(depots) + len(shelters) + len(teams)
    counts = defaultdict(int)
    for r in sites.values():
        counts[r["site_type"]] += 1
    assert counts == {"reserve_depot": len(depots), "shelter": len(shelters), "rescue_team": len(teams)}
    for s in shelters:
        site = sites[f"shelter:{s['bncsbh']}"]
        assert (site["capacity_people"], site["effective_area_m2"], site["lon"]) == (s["rnrs"], s["mj"], s["lon"])
    for t in teams:
        site = sites[f"team:{t['team_code']}"]
        assert (site["member_count"], site["division_code"]) == (t["member_count"], t["division_code"])
        assert site["team_type_code"] is not None
    # The unmappable shelter is kept, its class and division NULL.
    bad = sites[f"shelter:{BAD_SHELTER}"]
    assert (bad["shelter_class_code"], bad["division_code"]) == (None, None)


def test_unmapped_codes_are_counted(built: Built) -> None:
    got = {(r["table_name"], r["column_name"], r["unmapped_value"]): r["row_count"] for r in built.unmapped}
    assert got == {("shelters", "lb", BAD_CLASS): 1, ("shelters", "xzqh", BAD_DIVISION): 1}


def test_every_town_has_one_readiness_row_with_exact_figures(built: Built) -> None:
    rows = {r["division_code"]: r for r in built.marts["fct_division_readiness"]}
    assert len(built.marts["fct_division_readiness"]) == 26
    assert {code: r["division_name"] for code, r in rows.items()} == towns()
    population = {r["division_code"]: r["population"] for r in latest_register(built, "division_facts")}
    capacity: dict[str, int] = defaultdict(int)
    for s in built.query("select xzqh, rnrs from raw.natural_resources__shelters"):
        capacity[s["xzqh"]] += s["rnrs"]
    members: dict[str, list[int]] = defaultdict(list)
    for t in latest_register(built, "rescue_teams"):
        members[t["division_code"]].append(t["member_count"])
    for code, r in rows.items():
        assert r["shelter_capacity_people"] == capacity.get(code, 0)
        assert r["shelter_capacity_per_resident"] == pytest.approx(capacity.get(code, 0) / population[code])
        assert (r["team_count"], r["team_member_count"]) == (len(members[code]), sum(members[code]))
    assert any(r["shelter_count"] == 0 for r in rows.values())  # towns without shelters still have a row


@pytest.mark.parametrize("speed", [SPEED_KMH, SLOW_SPEED_KMH])
def test_reach_flag_matches_python_haversine(built: Built, speed: float) -> None:
    mart = built.marts["fct_division_readiness"] if speed == SPEED_KMH else built.slow_readiness
    expected = expected_reach(built, speed)
    for r in mart:
        depot, km, reachable = expected[r["division_code"]]
        assert r["nearest_depot_site_id"] == depot
        assert r["nearest_depot_straight_line_km"] == pytest.approx(km, rel=1e-9)
        assert r["reserve_travel_hours"] == pytest.approx(km * ROAD_FACTOR / speed, rel=1e-9)
        assert r["is_reserve_reachable_within_target"] is reachable
        assert r["travel_speed_kmh"] == speed
    flags = {r["is_reserve_reachable_within_target"] for r in mart}
    assert flags == ({True} if speed == SPEED_KMH else {True, False})


def relief_basis() -> list[dict[str, str]]:
    with (REPO_ROOT / "dbt" / "seeds" / "ref_relief_need_basis.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def expected_relief(b: Built, speed: float) -> dict[str, tuple[float, float]]:
    """Per town|need item: (need, quantity of that material in depots within 10 h), from raw and the seed."""
    depots: dict[str, tuple[float, float]] = {}
    quantity: dict[tuple[str, str], float] = defaultdict(float)
    for r in stock_rows(b):
        if r["lon"] is not None and (r["quantity"] or 0) > 0:
            depots.setdefault(r["depot_code"], (r["lon"], r["lat"]))
            quantity[(r["depot_code"], r["material_code"])] += r["quantity"]
    facts = {r["division_code"]: r for r in latest_register(b, "division_facts")}
    out: dict[str, tuple[float, float]] = {}
    for code in towns():
        c = facts[code]
        near = [
            d
            for d, (lon, lat) in depots.items()
            if haversine_km(c["center_lon"], c["center_lat"], lon, lat) * ROAD_FACTOR / speed <= TARGET_HOURS
        ]
        for item in relief_basis():
            per_100, days = float(item["quantity_per_100_people"]), int(item["basis_days"])
            need = math.ceil(round(c["population"] * DISPLACED_SHARE * per_100 / 100 * days, 9))
            reach = sum(quantity[(d, item["material_code"])] for d in near)
            out[f"{code}|{item['need_item_code']}"] = (need, reach)
    return out


@pytest.mark.parametrize("speed", [SPEED_KMH, SLOW_SPEED_KMH])
def test_relief_quantity_within_10h_matches_python(built: Built, speed: float) -> None:
    mart = built.marts["fct_division_relief_reach"] if speed == SPEED_KMH else built.slow_relief
    readiness = built.marts["fct_division_readiness"] if speed == SPEED_KMH else built.slow_readiness
    expected = expected_relief(built, speed)
    assert len(mart) == len(expected) == 26 * len(relief_basis())
    for r in mart:
        need, reach = expected[r["division_relief_id"]]
        assert r["need_quantity"] == need and r["reachable_quantity"] == pytest.approx(reach)
        assert r["shortfall_quantity"] == pytest.approx(max(need - reach, 0))
        assert r["is_quantity_reached_within_target"] is (reach >= need)
    short = defaultdict(int)
    for r in mart:
        short[r["division_code"]] += not r["is_quantity_reached_within_target"]
    for r in readiness:
        assert r["relief_items_short_count"] == short[r["division_code"]]
        assert r["is_relief_quantity_reached_within_target"] is (short[r["division_code"]] == 0)
        assert (r["relief_shortfall_summary"] is None) is (short[r["division_code"]] == 0)
    if speed == SLOW_SPEED_KMH:  # at a crawl most towns reach no depot: the flag takes both values
        assert {r["is_quantity_reached_within_target"] for r in mart} == {True, False}


def test_informant_ab_coverage_matches_the_registers(built: Built) -> None:
    names = towns()
    villages = {
        r["division_code"]: r for r in latest_register(built, "division_facts") if r["division_code"] not in names
    }
    posts: dict[str, set[str]] = defaultdict(set)
    for r in latest_register(built, "disaster_informants"):
        posts[r["village_code"]].add(r["post"].strip().removesuffix("岗"))
    mart = {r["village_code"]: r for r in built.marts["fct_village_informant_coverage"]}
    assert set(mart) == set(villages) and len(mart) > 300
    for code, r in mart.items():
        assert (r["has_a_post"], r["has_b_post"]) == ("A" in posts[code], "B" in posts[code])
        assert r["town_code"] == code[:9] + "000"
    missing = [r for r in mart.values() if not r["is_ab_covered"]]
    assert missing and all(r["missing_posts"] in ("A", "B", "A,B") for r in missing)
    per_town: dict[str, list[bool]] = defaultdict(list)
    for r in mart.values():
        per_town[r["town_code"]].append(r["is_ab_covered"])
    for r in built.marts["fct_division_readiness"]:
        flags = per_town[r["division_code"]]
        assert (r["village_count"], r["villages_ab_covered_count"]) == (len(flags), sum(flags))
        assert r["informant_ab_coverage_rate"] == pytest.approx(sum(flags) / len(flags))


def test_shelter_and_fire_station_gaps(built: Built) -> None:
    names = towns()
    stations = {
        t["division_code"] for t in latest_register(built, "rescue_teams") if t["team_type"] == "综合性消防救援"
    }
    shelters = {s["xzqh"] for s in built.query("select xzqh from raw.natural_resources__shelters")}
    rows = built.marts["fct_division_readiness"]
    for r in rows:
        assert r["is_fire_station_gap"] is (r["division_code"] not in stations)
        assert r["is_shelter_gap"] is (r["division_code"] not in shelters)
        assert r["is_plan_named_station_town"] is (names[r["division_code"]] in PLAN_STATION_TOWNS)
    named = [r for r in rows if r["is_plan_named_station_town"]]
    assert len(named) == 4 and all(r["is_fire_station_gap"] for r in named)  # the stand-in follows the plan
    assert any(r["is_shelter_gap"] for r in rows) and not all(r["is_shelter_gap"] for r in rows)
