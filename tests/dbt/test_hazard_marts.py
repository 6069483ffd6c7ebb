"""Hazard marts (风险隐患与突发事件) on the sandbox's data: exact figures.

The sandbox (seed 42, scale 1) is started once for the module; weather, water,
police, transport, natural_resources and bureau are ingested and
``dbt build --select +tag:hazard`` runs with ``as_of`` pinned one minute after
the last warning message, so warning statuses do not depend on the wall clock.

Every expected figure is derived here independently of the dbt models: from the
raw tables with plain SQL and Python, from the seeds' CSV files, or from known
stand-in facts (the water stand-in's network: 海城河 at 海城 rises above its
warning stage once, 岔沟水库 above its flood limit once; the CAP episode: the
rainstorm warning is issued, updated and cancelled).

The last test writes later "loads" into raw (a re-graded bridge, a hazard point
gone from a new snapshot, a rain correction, codes nobody knows) and builds
again: snapshot history, the incremental rain hours and the unmapped-code
counts.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from edp.orchestration.pipeline import ingest
from edp.sandbox.control import sandbox_down, sandbox_up
from edp.settings import REPO_ROOT, Settings, reset_settings
from edp.storage.migrate import migrate_url
from edp.storage.warehouse import engine
from edp.transform.dbt_runner import DbtResult, run_dbt

pytestmark = pytest.mark.integration

SEED, SCALE = 42, 1.0
SOURCES = ("weather", "water", "police", "transport", "natural_resources", "bureau")
CST = timezone(timedelta(hours=8))
COUNTY = "210381000000"
SEEDS = REPO_ROOT / "dbt" / "seeds"
HAZARD_MARTS = (
    "fct_hazard_event",
    "fct_warning",
    "dim_hazard_site",
    "fct_division_daily_risk",
    "fct_report_timeliness",
)
ROAD_EVENT_HAZARDS = {"事故", "封闭", "地质灾害阻断", "恶劣天气管制"}


@dataclass
class Built:
    settings: Settings
    eng: sa.Engine
    result: DbtResult
    as_of: datetime


def seed_rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def rows(eng: sa.Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with eng.connect() as c:
        return [dict(r) for r in c.execute(sa.text(sql), params).mappings().all()]


def scalar(eng: sa.Engine, sql: str, **params: Any) -> Any:
    with eng.connect() as c:
        return c.execute(sa.text(sql), params).scalar_one()


def vars_of(built: Built) -> str:
    return json.dumps({"as_of": built.as_of.isoformat()})


def build(settings: Settings, as_of: datetime, **extra_vars: Any) -> DbtResult:
    vars_ = json.dumps({"as_of": as_of.isoformat(), **extra_vars})
    return run_dbt(settings, ["build", "--select", "+tag:hazard", "--vars", vars_])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, pg_admin: sa.Engine | None) -> Iterator[Built]:
    """An isolated platform (own EDP_HOME and database), the sandbox, every source ingested, one build."""
    home = tmp_path_factory.mktemp("hazard") / "edp-home"
    home.mkdir()
    database = f"edp_test_{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EDP_HOME", str(home))
        for var in ("EDP_LAKE_URL", "EDP_ANSHAN_URL", "EDP_SOURCE_WEATHER_URL", "EDP_WAREHOUSE_URL"):
            mp.delenv(var, raising=False)
        if pg_admin is not None:
            with pg_admin.connect() as c:
                c.execute(sa.text(f'create database "{database}"'))
            url = sa.make_url(pg_admin.url).set(database=database).render_as_string(hide_password=False)
            migrate_url(url)
            mp.setenv("EDP_WAREHOUSE_URL", url.replace("postgresql+psycopg://", "postgresql://"))
        reset_settings()
        settings = Settings()
        sandbox_up(settings, seed=SEED, scale=SCALE, storm="summer")  # the rainstorm whatever the date
        try:
            for source in SOURCES:
                ingest(source, settings)
            eng = engine(settings)
            last_sent = scalar(eng, "select max(sent_at) from raw.weather__warnings")
            as_of = last_sent + timedelta(minutes=1)
            yield Built(settings, eng, build(settings, as_of), as_of)
        finally:
            sandbox_down(settings)
            reset_settings()
            if pg_admin is not None:
                from edp.storage import warehouse

                warehouse._engine_for.cache_clear()
                with pg_admin.connect() as c:
                    c.execute(sa.text(f'drop database if exists "{database}" with (force)'))


def events(eng: sa.Engine, dataset: str) -> dict[str, dict[str, Any]]:
    found = rows(eng, "select * from marts.fct_hazard_event where source_dataset = :d", d=dataset)
    return {r["event_id"]: r for r in found}


# ---------------------------------------------------------------- the build


def test_build_passes_with_every_unit_test(built: Built) -> None:
    assert built.result.success
    names = {n.name for n in built.result.nodes}
    assert set(HAZARD_MARTS) <= names
    assert {"snap_hazard_points", "snap_bridges", "snap_water_sites", "snap_chemical_enterprises"} <= names
    unit = [n for n in built.result.nodes if n.resource_type == "unit_test"]
    assert len(unit) >= 10 and all(n.status == "pass" for n in unit)


def test_marts_have_enforced_contracts_and_docs(built: Built) -> None:
    manifest = json.loads((built.result.target_path / "manifest.json").read_text(encoding="utf-8"))
    marts = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for name in HAZARD_MARTS:
        node = marts[name]
        assert node["config"]["contract"]["enforced"] is True, name
        assert node["schema"] == "marts" and "hazard" in node["tags"], name
        assert node["description"], name
        assert node["columns"], name
        for column, spec in node["columns"].items():
            assert spec["data_type"], f"{name}.{column}"
            assert spec["description"], f"{name}.{column}"
    with built.eng.connect() as c:
        for name in HAZARD_MARTS:
            table_cols = (
                c.execute(
                    sa.text(
                        "select column_name from information_schema.columns where table_schema = 'marts'"
                        " and table_name = :t order by ordinal_position"
                    ),
                    {"t": name},
                )
                .scalars()
                .all()
            )
            assert table_cols == list(marts[name]["columns"]), name


# ---------------------------------------------------------------- water breaches


def latest_readings(eng: sa.Engine, table: str, value: str) -> list[dict[str, Any]]:
    return rows(
        eng,
        f"select distinct on (trim(stcd), tm) trim(stcd) as stcd, tm, {value} as value, _extracted_at"
        f" from raw.{table} order by trim(stcd), tm, _extracted_at desc",
    )


def episodes(readings: list[dict[str, Any]], is_over: Any) -> dict[str, list[list[dict[str, Any]]]]:
    """Runs of consecutive readings for which ``is_over(reading)`` holds, per station."""
    by_station: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(readings, key=lambda r: (r["stcd"], r["tm"])):
        by_station[r["stcd"]].append(r)
    runs: dict[str, list[list[dict[str, Any]]]] = defaultdict(list)
    for stcd, series in by_station.items():
        current: list[dict[str, Any]] = []
        for r in series:
            if is_over(r):
                current.append(r)
            elif current:
                runs[stcd].append(current)
                current = []
        if current:
            runs[stcd].append(current)
    return runs


def test_river_above_warning_stage_yields_exactly_one_event(built: Built) -> None:
    from standins.water.network import build_network, counts_for_scale

    flagship = build_network(SEED, counts_for_scale(SCALE)).rivers[0]  # 海城河 at 海城, the stand-in's known fact
    thresholds = {
        r["stcd"]: r for r in rows(built.eng, "select trim(stcd) as stcd, wrz, grz from raw.water__river_thresholds")
    }
    readings = latest_readings(built.eng, "water__river", "z")
    runs = episodes(readings, lambda r: r["stcd"] in thresholds and r["value"] >= thresholds[r["stcd"]]["wrz"])
    over = [r for run in runs[flagship.stcd] for r in run]
    assert len(over) > 1  # several hourly readings above WRZ …
    assert list(runs) == [flagship.stcd] and len(runs[flagship.stcd]) == 1

    river = events(built.eng, "river")
    assert len(river) == 1  # … one event
    event = next(iter(river.values()))
    start = runs[flagship.stcd][0][0]
    assert event["event_id"] == f"water-river-{flagship.stcd}-{start['tm'].astimezone(CST):%Y%m%d%H}"
    assert event["occurred_at"] == start["tm"] and event["reported_at"] == start["_extracted_at"]
    assert (event["category_code"], event["category_name"]) == ("11A01", "洪水")
    assert event["division_code"] == "210381001000"  # 辽宁省海城市海州街道
    peak = max(r["value"] for r in over)
    wrz, grz = thresholds[flagship.stcd]["wrz"], thresholds[flagship.stcd]["grz"]
    assert event["severity"] == ("extreme" if peak >= grz else "severe" if peak >= (wrz + grz) / 2 else "moderate")
    assert event["status"] == "resolved"
    assert f"峰值 {peak:.2f} m，警戒 {wrz:.2f} m" in event["description"]


def test_reservoir_above_flood_limit_yields_events_only_in_the_flood_season(built: Built) -> None:
    """SL 323 ST_RSVRFSR_B: only FSTP 1–3 periods carry a flood limit (FSLTDZ); an FSTP 4 (non-flood)
    level is no flood limit. The stand-in's storm lifts 岔沟水库 above the level of whatever period
    "now" falls in: in a flood season that is one 超汛限 event, outside it none."""
    from standins.water.network import build_network, counts_for_scale

    flagship = build_network(SEED, counts_for_scale(SCALE)).reservoirs[0]  # 岔沟水库
    periods = defaultdict(list)
    for r in rows(
        built.eng, "select trim(stcd) as stcd, bgmd, edmd, fsltdz, fstp from raw.water__reservoir_flood_limits"
    ):
        periods[r["stcd"]].append(r)

    def level(r: dict[str, Any], *, flood_season_only: bool) -> float | None:
        mmdd = r["tm"].astimezone(CST).strftime("%m%d")
        levels = [
            s["fsltdz"]
            for s in periods[r["stcd"]]
            if (not flood_season_only or s["fstp"].strip() in ("1", "2", "3"))
            and (
                (s["bgmd"] <= mmdd <= s["edmd"]) or (s["bgmd"] > s["edmd"] and (mmdd >= s["bgmd"] or mmdd <= s["edmd"]))
            )
        ]
        return min(levels) if levels else None

    def limit(r: dict[str, Any]) -> float | None:
        return level(r, flood_season_only=True)

    readings = latest_readings(built.eng, "water__reservoir", "rz")
    runs = episodes(readings, lambda r: limit(r) is not None and r["value"] > limit(r))
    # Whatever the period, the flagship rises above its level (FSTP 4 included): the old rule's breach.
    above_any = episodes(readings, lambda r: (v := level(r, flood_season_only=False)) is not None and r["value"] > v)
    assert list(above_any) == [flagship.stcd]
    assert list(runs) in ([flagship.stcd], [])

    reservoir = events(built.eng, "reservoir")
    assert len(reservoir) == sum(len(v) for v in runs.values())
    if not runs:
        return
    event = next(iter(reservoir.values()))
    run = runs[flagship.stcd][0]
    assert event["event_id"] == f"water-reservoir-{flagship.stcd}-{run[0]['tm'].astimezone(CST):%Y%m%d%H}"
    assert event["division_code"] == "210381102000"  # 岔沟镇
    latest = max(r["tm"] for r in readings if r["stcd"] == flagship.stcd)
    assert event["status"] == ("ongoing" if run[-1]["tm"] == latest else "resolved")
    assert f"汛限 {limit(run[0]):.2f} m" in event["description"]


def town_of_gauges(eng: sa.Engine) -> dict[str, str]:
    towns = [r for r in seed_rows("ref_divisions") if r["level"] == "town"]
    stations = rows(
        eng,
        "select trim(stcd) as stcd, stlc, _batch_id from raw.water__stations"
        " where _batch_id = (select _batch_id from raw.water__stations order by _extracted_at desc limit 1)",
    )
    town_of = {}
    for s in stations:
        matches = sorted((t for t in towns if t["name"] in (s["stlc"] or "")), key=lambda t: -len(t["name"]))
        town_of[s["stcd"]] = matches[0]["code12"] if matches else COUNTY
    return town_of


def gauge_hours(eng: sa.Engine) -> dict[str, dict[datetime, Decimal]]:
    """Hourly rain per gauge from raw (latest version of each period of at most an hour), as numeric rounds it."""
    sums: dict[tuple[str, datetime], float] = defaultdict(float)
    for r in rows(
        eng,
        "select distinct on (trim(stcd), tm) trim(stcd) as stcd, tm, drp, intv"
        " from raw.water__rainfall order by trim(stcd), tm, _extracted_at desc",
    ):
        if r["intv"] <= 1:
            hour = (r["tm"] - timedelta(seconds=1)).astimezone(CST).replace(minute=0, second=0, microsecond=0)
            sums[(r["stcd"], hour)] += float(r["drp"])
    hours: dict[str, dict[datetime, Decimal]] = defaultdict(dict)
    for (stcd, hour), mm in sums.items():
        hours[stcd][hour] = Decimal(f"{mm:.15g}").quantize(Decimal("0.1"), ROUND_HALF_UP)
    return hours


def rain_onsets(hours: dict[str, dict[datetime, Decimal]]) -> list[dict[str, Any]]:
    """Every gauge-hour whose rainstorm severity rose, by the seed's thresholds (computed here, not by dbt)."""
    thresholds = [r for r in seed_rows("ref_rainfall_thresholds") if r["is_event"] == "true"]
    severity_rank = {"moderate": 2, "severe": 3, "extreme": 4}
    onsets = []
    for stcd, by_hour in hours.items():
        previous: tuple[datetime, int] | None = None
        for hour in sorted(by_hour):
            totals = {
                n: sum((mm for h, mm in by_hour.items() if hour - timedelta(hours=n - 1) <= h <= hour), Decimal(0))
                for n in (1, 3, 6, 12, 24)
            }
            reached = [t for t in thresholds if totals[int(t["window_hours"])] >= Decimal(t["lower_mm"])]
            top = max(reached, key=lambda t: int(t["event_rank"]), default=None)
            rank = severity_rank[top["severity"]] if top else 0
            before = previous[1] if previous and previous[0] >= hour - timedelta(hours=24) else 0
            if top and rank > before:
                window = int(top["window_hours"])
                onsets.append(
                    {"stcd": stcd, "hour": hour, "top": top, "total": totals[window], "rank": int(top["event_rank"])}
                )
            previous = (hour, rank)
    return onsets


def test_rain_by_rolling_totals_yields_one_event_per_town_and_hour(built: Built) -> None:
    town_of = town_of_gauges(built.eng)
    onsets = rain_onsets(gauge_hours(built.eng))
    wettest: dict[tuple[str, datetime], dict[str, Any]] = {}
    for onset in onsets:
        key = (town_of.get(onset["stcd"], COUNTY), onset["hour"])
        best = wettest.get(key)
        if best is None or (onset["rank"], onset["total"], best["stcd"]) > (best["rank"], best["total"], onset["stcd"]):
            wettest[key] = onset
    assert wettest  # the storm reaches 暴雨 (GB/T 28592) or a signal's criterion somewhere

    rain = events(built.eng, "rainfall")
    assert set(rain) == {f"water-rainstorm-{d}-{h:%Y%m%d%H}" for d, h in wettest}
    severities = set()
    for (division, hour), onset in wettest.items():
        event = rain[f"water-rainstorm-{division}-{hour:%Y%m%d%H}"]
        top = onset["top"]
        reached = top["name_zh"] if top["scheme"] == "level" else f"达{top['name_zh']}标准"
        assert f"{top['window_hours']}小时降水 {onset['total']:.1f} mm {reached}" in event["description"]
        assert event["category_code"] == "11B03" and event["occurred_at"] == hour
        assert event["severity"] == top["severity"]
        severities.add(top["severity"])
    # One storm, several steps: its onsets grade it more than once.
    assert len(severities) >= 2


def expected_rain_events(eng: sa.Engine) -> set[str]:
    town_of = town_of_gauges(eng)
    return {
        f"water-rainstorm-{town_of.get(o['stcd'], COUNTY)}-{o['hour']:%Y%m%d%H}" for o in rain_onsets(gauge_hours(eng))
    }


# ---------------------------------------------------------------- warnings


def test_warning_issued_updated_and_cancelled_ends_cancelled(built: Built) -> None:
    messages = rows(
        built.eng,
        'select identifier, msg_type, "references" as refs, sent_at, expires_at, event_type_code'
        " from raw.weather__warnings where status = 'Actual'",
    )
    by_id = {m["identifier"]: m for m in messages}
    # The stand-in's rainstorm chain: an Alert (暴雨 11B03), an Update naming it, a Cancel naming the update.
    alert = next(m for m in messages if m["msg_type"] == "Alert" and m["event_type_code"] == "11B03")
    update = next(m for m in messages if m["msg_type"] == "Update" and alert["identifier"] in m["refs"])
    cancel = next(m for m in messages if m["msg_type"] == "Cancel" and update["identifier"] in m["refs"])

    warnings = {r["identifier"]: r for r in rows(built.eng, "select * from marts.fct_warning")}
    assert set(warnings) == {i for i, m in by_id.items() if m["msg_type"] in ("Alert", "Update")}
    first, last = warnings[alert["identifier"]], warnings[update["identifier"]]
    assert (first["status"], first["superseded_by"], first["ended_at"]) == (
        "updated",
        update["identifier"],
        update["sent_at"],
    )
    assert (last["status"], last["superseded_by"], last["ended_at"]) == (
        "cancelled",
        cancel["identifier"],
        cancel["sent_at"],
    )
    assert first["root_identifier"] == last["root_identifier"] == alert["identifier"]
    assert first["chain_status"] == last["chain_status"] == "cancelled"
    assert cancel["identifier"] not in warnings  # a Cancel ends a version, it is none

    # Every other status, derived from the raw messages as of the pinned moment.
    ended_by: dict[str, dict[str, Any]] = {}
    for m in sorted(messages, key=lambda m: m["sent_at"]):
        for ref in m["refs"] if m["msg_type"] in ("Update", "Cancel") else []:
            if ref in by_id and ref not in ended_by:
                ended_by[ref] = m
    for identifier, w in warnings.items():
        end, expires = ended_by.get(identifier), by_id[identifier]["expires_at"]
        if end and end["sent_at"] < expires:
            expected = "updated" if end["msg_type"] == "Update" else "cancelled"
        else:
            expected = "expired" if expires <= built.as_of else "active"
        assert w["status"] == expected, identifier

    chains = events(built.eng, "warnings")
    rain_chain = chains[f"weather-warning-{alert['identifier']}"]
    assert (rain_chain["status"], rain_chain["severity"]) == ("cancelled", "moderate")  # Blue, then Yellow
    assert rain_chain["reported_at"] == alert["sent_at"] and rain_chain["report_lag_minutes"] == 0
    assert len(chains) == len(
        {w["root_identifier"] for w in warnings.values() if any(c.startswith("210381") for c in w["division_codes"])}
    )


# ---------------------------------------------------------------- police and transport


def test_alarms_accidents_and_road_events_are_one_event_each(built: Built) -> None:
    categories = {r["alarm_category_code"]: r for r in seed_rows("ref_police_alarm_categories")}
    alarms = rows(
        built.eng,
        "select distinct on (alarm_id) alarm_id, category_code, received_at, feedback_at"
        " from raw.police__alarms order by alarm_id, _extracted_at desc",
    )
    expected = {}
    for a in alarms:
        mapped = categories.get(a["category_code"]) or categories.get(a["category_code"][:2])
        assert mapped is not None, a["category_code"]  # every sandbox category resolves
        if mapped["is_emergency_relevant"] == "true":
            expected[f"police-alarm-{a['alarm_id']}"] = mapped["event_category_code"]
    alarm_events = events(built.eng, "alarms")
    assert {k: v["category_code"] for k, v in alarm_events.items()} == expected

    accidents = scalar(built.eng, "select count(distinct accident_id) from raw.police__accidents")
    assert len(events(built.eng, "accidents")) == accidents

    road = rows(
        built.eng,
        "select distinct on (event_id) event_id, type, deleted from raw.transport__road_events"
        " order by event_id, updated_at desc, _extracted_at desc",
    )
    hazards = {
        f"transport-road_event-{r['event_id']}" for r in road if not r["deleted"] and r["type"] in ROAD_EVENT_HAZARDS
    }
    assert set(events(built.eng, "road_events")) == hazards


def test_report_timeliness_counts_events_within_the_target(built: Built) -> None:
    alarms = rows(
        built.eng,
        "select distinct on (alarm_id) alarm_id, category_code, received_at, feedback_at"
        " from raw.police__alarms order by alarm_id, _extracted_at desc",
    )
    by_day: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for a in alarms:
        day = a["received_at"].astimezone(CST).date()
        by_day[day][0] += 1
        if a["feedback_at"] is not None and a["feedback_at"] - a["received_at"] < timedelta(minutes=61):
            by_day[day][1] += 1
    timeliness = {
        (r["source_dataset"], r["event_date"]): r for r in rows(built.eng, "select * from marts.fct_report_timeliness")
    }
    for day, (count, timely) in by_day.items():
        row = timeliness[("alarms", day)]
        assert (row["event_count"], row["timely_count"], row["target_minutes"]) == (count, timely, 60)
        assert float(row["timely_share"]) == pytest.approx(round(timely / count, 4))
        assert row["meets_target"] == (timely == count)
    accidents = [r for (dataset, _), r in timeliness.items() if dataset == "accidents"]
    assert accidents and all(r["timely_share"] is None and not r["is_measured"] for r in accidents)
    per_dataset = rows(built.eng, "select source_dataset, count(*) as n from marts.fct_hazard_event group by 1")
    for r in per_dataset:
        assert sum(t["event_count"] for (d, _), t in timeliness.items() if d == r["source_dataset"]) == r["n"]


# ---------------------------------------------------------------- sites and risk


def test_hazard_sites_per_type(built: Built) -> None:
    def latest_batch(table: str) -> str:
        return f"_batch_id = (select _batch_id from raw.{table} order by _extracted_at desc limit 1)"

    expected = {
        "geohazard_point": scalar(
            built.eng,
            "select count(*) from raw.natural_resources__hazard_points where zt = '在册'"
            f" and {latest_batch('natural_resources__hazard_points')}",
        ),
        "bridge": scalar(
            built.eng,
            "select count(*) from (select distinct on (bridge_code) * from raw.transport__bridges"
            " order by bridge_code, updated_at desc, _extracted_at desc) b"
            " where not deleted and tech_grade in (4, 5)",
        ),
        "river_section": scalar(
            built.eng,
            "select count(*) from raw.water__stations s where sttp in ('ZZ', 'ZQ')"
            f" and usfl = '1' and {latest_batch('water__stations')} and trim(stcd) in"
            " (select trim(stcd) from raw.water__river_thresholds)",
        ),
        "reservoir": scalar(
            built.eng,
            "select count(*) from raw.water__stations s where sttp = 'RR' and usfl = '1'"
            f" and {latest_batch('water__stations')} and trim(stcd) in"
            " (select trim(stcd) from raw.water__reservoir_flood_limits)",
        ),
        "major_hazard_enterprise": scalar(
            built.eng,
            "select count(distinct credit_code) from raw.bureau__chemical_enterprises where major_hazard_level in"
            " ('一级', '二级', '三级', '四级') and workbook_version = (select workbook_version from"
            " raw.bureau__chemical_enterprises order by uploaded_at desc nulls last, _extracted_at desc limit 1)",
        ),
    }
    sites = rows(
        built.eng,
        "select site_type, count(*) as n, count(*) filter (where is_current) as current"
        " from marts.dim_hazard_site group by 1",
    )
    assert {r["site_type"]: r["n"] for r in sites} == expected
    assert all(r["n"] == r["current"] for r in sites)  # one snapshot so far: every version is current
    flagship = rows(built.eng, "select * from marts.dim_hazard_site where site_id = 'river_section:21401100'")[0]
    wrz = scalar(built.eng, "select wrz from raw.water__river_thresholds where trim(stcd) = '21401100'")
    assert flagship["attributes"]["warning_stage_m"] == wrz and flagship["valid_to"] is None


def test_water_sites_rank_by_their_flood_state_not_by_their_reporting_grade(built: Built) -> None:
    """FRGRD (报汛等级) is kept as attributes.reporting_grade; risk_rank is the state at the newest reading."""
    sites = {
        r["source_record_id"]: r
        for r in rows(built.eng, "select * from marts.dim_hazard_site where source = 'water' and is_current")
    }
    frgrd = {
        r["stcd"]: r["frgrd"]
        for r in rows(
            built.eng,
            "select trim(stcd) as stcd, trim(frgrd) as frgrd from raw.water__stations"
            " where _batch_id = (select _batch_id from raw.water__stations order by _extracted_at desc limit 1)",
        )
    }
    thresholds = {
        r["stcd"]: r
        for r in rows(
            built.eng,
            "select distinct on (trim(stcd)) trim(stcd) as stcd, wrz, grz from raw.water__river_thresholds"
            " order by trim(stcd), _extracted_at desc",
        )
    }
    periods = defaultdict(list)
    for r in rows(
        built.eng, "select trim(stcd) as stcd, bgmd, edmd, fsltdz, fstp from raw.water__reservoir_flood_limits"
    ):
        periods[r["stcd"]].append(r)

    def newest(table: str, value: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for r in sorted(latest_readings(built.eng, table, value), key=lambda r: r["tm"]):
            if r["value"] is not None:
                found[r["stcd"]] = r
        return found

    rivers, reservoirs = newest("water__river", "z"), newest("water__reservoir", "rz")
    expected: dict[str, tuple[str, int | None]] = {}
    for stcd, site in sites.items():
        if site["site_type"] == "river_section":
            z, t = rivers.get(stcd), thresholds[stcd]
            expected[stcd] = (
                ("无读数", None)
                if z is None
                else ("超保证水位", 4)
                if t["grz"] is not None and z["value"] >= t["grz"]
                else ("超警戒水位", 3)
                if t["wrz"] is not None and z["value"] >= t["wrz"]
                else ("正常", 1)
            )
            continue
        rz = reservoirs.get(stcd)
        if rz is None:
            expected[stcd] = ("无读数", None)
            continue
        mmdd = rz["tm"].astimezone(CST).strftime("%m%d")
        limits = [
            p["fsltdz"]
            for p in periods[stcd]
            if p["fstp"].strip() in ("1", "2", "3")
            and (
                (p["bgmd"] <= mmdd <= p["edmd"]) or (p["bgmd"] > p["edmd"] and (mmdd >= p["bgmd"] or mmdd <= p["edmd"]))
            )
        ]
        expected[stcd] = (
            ("非汛期", 1) if not limits else ("超汛限水位", 3) if rz["value"] > min(limits) else ("正常", 1)
        )
    assert {k: (v["risk_level"], v["risk_rank"]) for k, v in sites.items()} == expected
    assert {k: v["attributes"].get("reporting_grade") for k, v in sites.items()} == {k: frgrd[k] for k in sites}
    assert all(v["attributes"].get("reporting_grade_name", "").endswith("报汛站") for v in sites.values())


def test_accidents_grade_by_deaths_never_by_all_injuries(built: Built) -> None:
    """国务院令第493号 第三条: ≥ 3 deaths 较大, ≥ 10 重大, ≥ 30 特别重大; JTSG injuries are not 重伤."""
    raw = rows(
        built.eng,
        "select distinct on (accident_id) accident_id, deaths, injuries, hazmat from raw.police__accidents"
        " order by accident_id, _extracted_at desc",
    )
    graded = {
        r["accident_id"]: r
        for r in rows(
            built.eng, "select accident_id, accident_grade, grade_upper_bound from intermediate.int_accidents_graded"
        )
    }
    accident_events = events(built.eng, "accidents")
    assert raw and len(graded) == len(raw)
    for a in raw:
        deaths, injured = a["deaths"] or 0, a["injuries"] or 0
        grade = "特别重大" if deaths >= 30 else "重大" if deaths >= 10 else "较大" if deaths >= 3 else "一般"
        severity = {"特别重大": "extreme", "重大": "extreme", "较大": "severe"}.get(
            grade, "moderate" if deaths or injured or a["hazmat"] else "minor"
        )
        assert graded[a["accident_id"]]["accident_grade"] == grade
        assert accident_events[f"police-accident-{a['accident_id']}"]["severity"] == severity


def test_division_daily_risk_adds_up(built: Built) -> None:
    risk = rows(built.eng, "select * from marts.fct_division_daily_risk")
    events_total = scalar(built.eng, "select count(*) from marts.fct_hazard_event")
    assert sum(r["hazard_event_count"] for r in risk) == events_total
    days = {r["risk_date"] for r in risk}
    assert len(risk) == len(days) * len(seed_rows("ref_divisions"))
    last_event = scalar(built.eng, "select max(occurred_at) from marts.fct_hazard_event")
    assert max(days) == max(built.as_of, last_event).astimezone(CST).date()
    severity_rank = {"minor": 1, "moderate": 2, "severe": 3, "extreme": 4}
    points: dict[tuple[str, Any], int] = defaultdict(int)
    for e in rows(built.eng, "select division_code, occurred_at, severity from marts.fct_hazard_event"):
        points[(e["division_code"], e["occurred_at"].astimezone(CST).date())] += severity_rank[e["severity"]]
    for r in risk:
        score = (
            10 * r["worst_warning_rank"]
            + 2 * points[(r["division_code"], r["risk_date"])]
            + r["sites_threatened_count"]
        )
        assert r["risk_score"] == score, r["division_risk_id"]
    # The county-wide cold-wave warning (Blue) covers every division on the as_of day.
    as_of_day = [r for r in risk if r["risk_date"] == built.as_of.astimezone(CST).date()]
    assert all(r["worst_warning_rank"] >= 1 for r in as_of_day)


# ---------------------------------------------------------------- codes


def test_every_code_resolves_or_is_counted(built: Built) -> None:
    unmapped = rows(built.eng, "select * from intermediate.int_hazard__unmapped_codes")
    codes = {r["code"] for r in seed_rows("ref_event_categories")}
    signals = {(r["event_type_code"], r["colour"]) for r in seed_rows("ref_warning_signals")}
    warnings = rows(built.eng, "select event_type_code, severity_colour from raw.weather__warnings")
    road_types = {r["road_event_type"] for r in seed_rows("ref_road_event_types")}
    geo_types = {r["geohazard_type"] for r in seed_rows("ref_geohazard_types")}
    grades = {r["danger_grade"] for r in seed_rows("ref_geohazard_danger_grades")}
    expected_unmapped = (
        sum(w["event_type_code"] not in codes for w in warnings)
        + sum((w["event_type_code"], w["severity_colour"]) not in signals for w in warnings)
        + scalar(built.eng, "select count(*) from raw.transport__road_events where type <> all(:t)", t=list(road_types))
        + scalar(
            built.eng,
            "select count(*) from raw.natural_resources__hazard_points where lx <> all(:t)",
            t=list(geo_types),
        )
        + scalar(
            built.eng, "select count(*) from raw.natural_resources__hazard_points where xqdj <> all(:t)", t=list(grades)
        )
    )
    assert expected_unmapped == 0 and unmapped == []  # the stand-ins send only known codes
    # Mapped code columns of the marts resolve (relationships tests ran in the build too).
    assert (
        scalar(
            built.eng,
            "select count(*) from marts.fct_hazard_event where category_code is null or category_code <> all(:c)",
            c=list(codes),
        )
        == 0
    )


# ---------------------------------------------------------------- later loads (runs last: it changes raw)


def test_later_loads_history_incremental_rain_and_unmapped_codes(built: Built) -> None:
    eng, later = built.eng, datetime.now(UTC)
    bridge = rows(
        eng,
        "select distinct on (bridge_code) * from raw.transport__bridges where tech_grade = 4"
        " order by bridge_code, updated_at desc",
    )[0]
    point = rows(
        eng, "select yhdbh from raw.natural_resources__hazard_points where zt = '在册' order by yhdbh limit 1"
    )[0]
    # A dry gauge-hour (no threshold reached in its 24 hours) in a town-hour without a rainstorm event:
    # +60 mm on one of its periods, so 3 hours reach 50 mm (the orange signal's criterion).
    rain_events = set(events(eng, "rainfall"))
    hours = rows(
        eng,
        "select * from intermediate.int_rain_windows_totalled where severity_rank = 0 and total_24h_mm < 5"
        " order by rain_hour, station_id",
    )
    stations = {
        r["station_id"]: r["division_code"] for r in rows(eng, "select * from intermediate.int_water_stations_located")
    }
    target = next(
        h
        for h in hours
        if f"water-rainstorm-{stations[h['station_id']]}-{h['rain_hour'].astimezone(CST):%Y%m%d%H}" not in rain_events
    )
    with eng.begin() as c:
        c.execute(
            sa.text(
                "insert into raw.transport__bridges (bridge_code, name, road_code, stake, length_m, spans, built_year,"
                " tech_grade, last_inspection, manager, lon, lat, division_code, updated_at, deleted, _batch_id,"
                " _extracted_at, _source) select bridge_code, name, road_code, stake, length_m, spans, built_year, 5,"
                " last_inspection, manager, lon, lat, division_code, :later, false, 'test-bridges', :later, 'transport'"
                " from raw.transport__bridges where bridge_code = :b and _batch_id = :batch"
            ),
            {"later": later, "b": bridge["bridge_code"], "batch": bridge["_batch_id"]},
        )
        cols = [
            r[0]
            for r in c.execute(
                sa.text(
                    "select column_name from information_schema.columns where table_schema = 'raw'"
                    " and table_name = 'natural_resources__hazard_points' and column_name not in"
                    " ('_batch_id', '_extracted_at') order by ordinal_position"
                )
            )
        ]
        listed = ", ".join(f'"{col}"' for col in cols)
        c.execute(
            sa.text(
                f"insert into raw.natural_resources__hazard_points ({listed}, _batch_id, _extracted_at)"
                f" select {listed}, 'test-points', :later from raw.natural_resources__hazard_points"
                " where yhdbh <> :p and _batch_id = (select _batch_id from raw.natural_resources__hazard_points"
                " order by _extracted_at desc limit 1)"
            ),
            {"later": later, "p": point["yhdbh"]},
        )
        c.execute(
            sa.text(
                "insert into raw.water__rainfall (stcd, tm, drp, intv, pdr, dyp, wth, _batch_id, _extracted_at,"
                " _source, _row_key)"  # the key's hash, as the loader writes it: incremental staging finds by it
                " select stcd, tm, drp + 60, intv, pdr, dyp, wth, 'test-rain', :later, 'water', _row_key from ("
                "  select distinct on (stcd, tm) * from raw.water__rainfall where trim(stcd) = :s"
                "  and tm > :h and tm <= :h + interval '1 hour' order by stcd, tm, _extracted_at desc limit 1) r"
            ),
            {"later": later, "s": target["station_id"], "h": target["rain_hour"]},
        )
        c.execute(
            sa.text(
                "insert into raw.transport__road_events (event_id, type, division_code, start_time, status, updated_at,"
                " deleted, _batch_id, _extracted_at, _source) values ('RE-TEST-1', '塌方', '210381101000', :later,"
                " '进行中', :later, false, 'test-road', :later, 'transport')"
            ),
            {"later": later},
        )

    # No lookback: the first load was minutes ago, inside the default 6 h margin.
    result = build(built.settings, built.as_of, hazard_lookback_hours=0)
    assert result.success
    assert result.node("int_rain_hours_totalled").rows_affected == 1  # incremental: only the corrected hour

    versions = rows(
        eng,
        "select * from marts.dim_hazard_site where site_id = :s order by valid_from",
        s=f"bridge:{bridge['bridge_code']}",
    )
    assert [(v["risk_level"], v["valid_to"] is None) for v in versions] == [("4类", False), ("5类", True)]
    assert versions[0]["valid_to"] == versions[1]["valid_from"]
    gone = rows(eng, "select * from marts.dim_hazard_site where site_id = :s", s=f"geohazard_point:{point['yhdbh']}")
    assert len(gone) == 1 and gone[0]["valid_to"] is not None and not gone[0]["is_current"]

    new_event = f"water-rainstorm-{stations[target['station_id']]}-{target['rain_hour'].astimezone(CST):%Y%m%d%H}"
    assert new_event not in rain_events
    assert set(events(eng, "rainfall")) == expected_rain_events(eng) == rain_events | {new_event}
    # The incremental windows equal a rebuild of them.
    windows = rows(eng, "select * from intermediate.int_rain_windows_totalled order by rain_window_id")
    assert run_dbt(
        built.settings, ["run", "--select", "int_rain_windows_totalled", "--full-refresh", "--vars", vars_of(built)]
    ).success
    assert rows(eng, "select * from intermediate.int_rain_windows_totalled order by rain_window_id") == windows

    unmapped = rows(
        eng,
        "select source, source_dataset, code_column, code_value, row_count"
        " from intermediate.int_hazard__unmapped_codes",
    )
    assert unmapped == [
        {
            "source": "transport",
            "source_dataset": "road_events",
            "code_column": "road_event_type",
            "code_value": "塌方",
            "row_count": 1,
        }
    ]
    assert "transport-road_event-RE-TEST-1" not in events(eng, "road_events")


# ---------------------------------------------------------------- the warning lane's build


def test_the_warning_lanes_build_neither_waits_for_the_everyday_build_nor_collides_with_it(built: Built) -> None:
    """The lane builds in a dbt workspace of its own while the everyday build holds the platform's dbt
    lock; a model both build waits for the lock the other holds on that model in the warehouse."""
    import threading

    from edp.orchestration.warning_lane import DBT_SELECT, DBT_WORKSPACE
    from edp.transform.dbt_runner import _lock, dbt_dir

    settings, eng = built.settings, built.eng
    args = ["build", "--exclude-resource-type", "unit_test", "--select", DBT_SELECT]
    args += ["--vars", json.dumps({"as_of": built.as_of.isoformat()})]
    schema = scalar(eng, "select table_schema from information_schema.tables where table_name = 'fct_warning'")
    key = f"edp.lane_model:{schema}.fct_warning"
    outcome: dict[str, Any] = {}

    def lane() -> None:
        try:
            outcome["result"] = run_dbt(settings, args, workspace=DBT_WORKSPACE)
        except Exception as exc:  # reported by the assertions below
            outcome["error"] = exc

    holder = eng.connect()
    try:
        # The everyday build holds the platform's dbt lock, and is building fct_warning right now.
        with _lock(settings):
            holder.execute(sa.text("select pg_advisory_lock(hashtextextended(:k, 0))"), {"k": key})
            worker = threading.Thread(target=lane)
            worker.start()
            waiting = 0
            for _ in range(600):  # up to 5 minutes for dbt to start and reach fct_warning on a loaded machine
                waiting = scalar(
                    eng,
                    "select count(*) from pg_locks where locktype = 'advisory' and not granted"
                    " and pid <> pg_backend_pid()",
                )
                if waiting or not worker.is_alive():
                    break
                worker.join(0.5)
            assert waiting == 1, outcome  # the lane reached fct_warning and waits for that model's lock alone
            assert "result" not in outcome
            holder.execute(sa.text("select pg_advisory_unlock(hashtextextended(:k, 0))"), {"k": key})
            holder.commit()
            worker.join(600)
        assert not worker.is_alive()
    finally:
        holder.close()

    assert "error" not in outcome, outcome.get("error")
    result: DbtResult = outcome["result"]
    assert result.success
    assert result.node("fct_warning").status == "success"
    assert result.target_path == dbt_dir(settings, DBT_WORKSPACE) / "target"
    # Every lock a model took is released again: nothing waits, nothing is held.
    assert scalar(eng, "select count(*) from pg_locks where locktype = 'advisory'") == 0
    versions = scalar(
        eng,
        "select count(distinct identifier) from raw.weather__warnings"
        " where status = 'Actual' and msg_type in ('Alert', 'Update') and sent_at <= :as_of",
        as_of=built.as_of,
    )
    assert scalar(eng, "select count(*) from marts.fct_warning") == versions > 0


# ------------------------------------------------- 突发事件信息报告台账 (the towns' reports)


def test_town_reports_bring_events_of_all_four_categories(built: Built) -> None:
    register = rows(built.eng, "select distinct event_id, category_code from staging.stg_bureau__event_reports")
    found = events(built.eng, "event_reports")
    assert set(found) == {f"bureau-report-{r['event_id']}" for r in register}
    assert {e["top_category_code"] for e in found.values()} == {"11000", "12000", "13000", "14000"}
    assert all(e["category_name"] for e in found.values())  # every code the stand-in uses is in the code table


def test_the_plan_kpi_counts_every_due_report_and_missing_ones_as_late(built: Built) -> None:
    per_report = rows(
        built.eng,
        "select count(*) filter (where is_due) as due, count(*) filter (where is_on_time) as on_time, "
        "count(*) filter (where is_missing and is_due and not is_late) as missing_not_late, "
        "count(*) filter (where is_on_time and delay_minutes > 0) as on_time_but_after, "
        "count(*) filter (where is_late and delay_minutes <= 0) as late_but_before "
        "from marts.fct_event_report_timeliness",
    )[0]
    kpi = rows(
        built.eng,
        "select sum(due_count) as due, sum(on_time_count) as on_time, min(timely_share) as worst, "
        "count(*) filter (where meets_target) as meeting from marts.fct_town_report_timeliness",
    )[0]
    assert per_report["due"] == kpi["due"] > 0 and per_report["on_time"] == kpi["on_time"]
    assert per_report["missing_not_late"] == per_report["on_time_but_after"] == per_report["late_but_before"] == 0
    assert kpi["worst"] < 1 and kpi["meeting"] > 0  # the stand-in has late towns and punctual ones
