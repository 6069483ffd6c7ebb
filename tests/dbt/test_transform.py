"""The dbt project against a real PostgreSQL: exact mart figures, the incremental
path for late corrections, freshness, contracts, and edp.transform.dbt_runner itself.

Rows and timeline: see ``conftest.py``.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from edp.settings import REPO_ROOT, Settings
from edp.storage.warehouse import Conn
from edp.transform.dbt_runner import (
    DbtError,
    build,
    dbt_env,
    docs_generate,
    run_dbt,
    source_freshness,
    unit_tests,
)
from tests.dbt.conftest import (
    CORRECTION_BATCH,
    EXTRACTED_1,
    EXTRACTED_2,
    EXTRACTED_3,
    HAIZHOU,
    STATIONS,
    TENGAO,
    WITHDRAWN,
    at,
    insert_observations,
)


def extremes(eng: sa.Engine) -> dict[str, dict[str, Any]]:
    with eng.connect() as c:
        rows = c.execute(sa.text("select * from marts.fct_weather_hourly_extremes")).mappings().all()
    return {r["hourly_extreme_id"]: dict(r) for r in rows}


def events(eng: sa.Engine) -> dict[str, dict[str, Any]]:
    with eng.connect() as c:
        rows = c.execute(sa.text("select * from marts.fct_hazard_event")).mappings().all()
    return {r["event_id"]: dict(r) for r in rows}


@pytest.mark.integration
def test_build_gives_exact_marts(settings: Settings, raw_weather: sa.Engine, capsys: pytest.CaptureFixture) -> None:
    started = time.monotonic()
    result = build(settings)
    with capsys.disabled():
        print(f"\n[dbt build: {time.monotonic() - started:.1f}s wall, dbt elapsed {result.elapsed_seconds:.1f}s]")

    assert result.success
    assert result.node("fct_weather_hourly_extremes").status == "success"
    assert result.node("fct_weather_hourly_extremes").rows_affected == 6
    assert result.node("fct_hazard_event").rows_affected == 3
    # A scheduled build runs no unit tests (their inputs are fixtures); the suite runs them all here.
    assert not [n for n in result.nodes if n.resource_type == "unit_test"]
    units = unit_tests(settings)
    assert units.success
    assert len(units.nodes) >= 20 and {n.resource_type for n in units.nodes} == {"unit_test"}
    assert all(n.status == "pass" for n in units.nodes)

    with raw_weather.connect() as c:
        types = c.execute(
            sa.text(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'ref' and table_name = 'ref_divisions'"
            )
        )
        assert dict(types.tuples().all()) == dict.fromkeys(("code12", "name", "level", "parent"), "text")
        assert c.execute(sa.text("select count(*) from ref.ref_divisions where level = 'town'")).scalar_one() == 26

    rows = extremes(raw_weather)
    assert set(rows) == {f"{d}-20261128{h}" for d in (HAIZHOU, TENGAO) for h in (12, 13, 14)}

    haizhou_13 = rows[f"{HAIZHOU}-2026112813"]
    assert haizhou_13["division_name"] == "海州街道"
    assert haizhou_13["obs_hour"] == at(28, 13)
    # A3817's 3.5 mm corrected to 7.5 mm in the second batch: the correction wins.
    assert haizhou_13["max_precip_1h_mm"] == 7.5
    # 54471 re-sent with the same updated_at: the later extraction (5.9 °C) wins the tie.
    assert haizhou_13["avg_temp_c"] == pytest.approx((5.9 + 6.5) / 2)
    assert haizhou_13["min_visibility_m"] == 320
    assert (haizhou_13["station_count"], haizhou_13["obs_count"]) == (2, 2)
    assert haizhou_13["updated_at"] == at(28, 18, 50)
    assert haizhou_13["source_extracted_at"] == EXTRACTED_2

    haizhou_14 = rows[f"{HAIZHOU}-2026112814"]
    assert haizhou_14["max_precip_1h_mm"] == 62.3
    assert haizhou_14["max_wind_gust_ms"] == 9.0
    assert haizhou_14["source_extracted_at"] == EXTRACTED_1

    # A3830 is withdrawn from the latest stations snapshot; its past observation still counts.
    tengao_12 = rows[f"{TENGAO}-2026112812"]
    assert (tengao_12["station_count"], tengao_12["obs_count"], tengao_12["avg_temp_c"]) == (2, 2, 3.5)
    with raw_weather.connect() as c:
        query = sa.text("select station_id, is_in_latest_snapshot from staging.stg_weather__stations")
        listed = dict(c.execute(query).tuples().all())
    assert listed == {"54471": True, "A3817": True, "A3820": True, WITHDRAWN: False}

    # qc = 2: the observation counts, its 40 m/s gust and 100 m visibility do not.
    tengao_13 = rows[f"{TENGAO}-2026112813"]
    assert (tengao_13["station_count"], tengao_13["obs_count"]) == (1, 1)
    assert tengao_13["max_wind_gust_ms"] is None
    assert tengao_13["min_visibility_m"] is None
    assert tengao_13["avg_temp_c"] is None

    ev = events(raw_weather)
    assert set(ev) == {
        f"weather-fog-{HAIZHOU}-2026112813",
        f"weather-rainstorm-{HAIZHOU}-2026112814",
        f"weather-gale-{TENGAO}-2026112814",
    }
    rain = ev[f"weather-rainstorm-{HAIZHOU}-2026112814"]
    assert rain["category_code"] == "11B03" and rain["category_name"] == "暴雨"
    assert rain["source"] == "weather" and rain["status"] == "observed"
    assert rain["occurred_at"] == at(28, 14)
    assert rain["reported_at"] == at(28, 14, 2)
    assert rain["report_lag_minutes"] == 2
    # 暴雨 by rolling totals (ref_rainfall_thresholds): 54471's 3 hours 2.0 + 2.5 + 62.3 = 66.8 mm and
    # A3817's 3.0 + 3.5 + 55.0 = 61.5 mm both reach the orange signal's 3 h ≥ 50 mm (中国气象局令第16号),
    # severe; placed at the larger total.
    assert (rain["lon"], rain["lat"]) == STATIONS["54471"][1:3]
    assert rain["severity"] == "severe"
    assert rain["description"] == "海州街道 2026-11-28 14时 3小时降水 66.8 mm 达暴雨橙色预警信号标准"

    fog = ev[f"weather-fog-{HAIZHOU}-2026112813"]
    assert fog["category_code"] == "11B17"
    assert fog["report_lag_minutes"] == 20
    assert fog["severity"] == "severe"  # 500 / 320 = 1.56
    assert fog["description"] == "海州街道 2026-11-28 13时 能见度 320 m"

    gale = ev[f"weather-gale-{TENGAO}-2026112814"]
    assert gale["category_code"] == "11B06"
    assert (gale["lon"], gale["lat"]) == STATIONS["A3820"][1:3]
    assert gale["report_lag_minutes"] == 10
    assert gale["severity"] == "moderate"
    assert gale["description"] == "腾鳌镇 2026-11-28 14时 极大风速 18.5 m/s"

    target = docs_generate(settings)
    assert target == settings.home / "dbt" / "target"
    for name in ("index.html", "catalog.json", "manifest.json"):
        assert (target / name).is_file()
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    assert "model.haicheng_edp.fct_hazard_event" in catalog["nodes"]


@pytest.mark.integration
def test_late_correction_updates_old_hours_incrementally(settings: Settings, raw_weather: sa.Engine) -> None:
    assert build(settings).success
    # Mark two rows: one the next run must not touch (its rows were extracted
    # before watermark − lookback), one it must recompute (within the lookback).
    untouched, in_lookback = f"{TENGAO}-2026112812", f"{HAIZHOU}-2026112813"
    with raw_weather.begin() as c:
        c.execute(
            sa.text(
                "update marts.fct_weather_hourly_extremes set avg_temp_c = -99 where hourly_extreme_id in (:a, :b)"
            ),
            {"a": untouched, "b": in_lookback},
        )
        insert_observations(c, CORRECTION_BATCH, "obs-3", EXTRACTED_3)

    result = build(settings)
    # Touched: 海州 13 (lookback), 海州 14 and 腾鳌 14 (corrections), 腾鳌 11 (backlog).
    assert result.node("fct_weather_hourly_extremes").rows_affected == 4

    rows = extremes(raw_weather)
    assert rows[untouched]["avg_temp_c"] == -99  # the incremental path, not a rebuild
    assert rows[in_lookback]["avg_temp_c"] == pytest.approx(6.2)

    haizhou_14 = rows[f"{HAIZHOU}-2026112814"]
    assert haizhou_14["max_precip_1h_mm"] == 55.0  # 62.3 corrected to 48.0; A3817's 55.0 is the max now
    assert haizhou_14["updated_at"] == at(28, 19, 45)
    assert haizhou_14["source_extracted_at"] == EXTRACTED_3
    tengao_14 = rows[f"{TENGAO}-2026112814"]
    assert tengao_14["max_wind_gust_ms"] == 36.1
    assert tengao_14["source_extracted_at"] == EXTRACTED_3
    backlog = rows[f"{TENGAO}-2026112811"]
    assert (backlog["obs_hour"], backlog["obs_count"], backlog["avg_temp_c"]) == (at(28, 11), 1, 3.5)

    ev = events(raw_weather)
    assert len(ev) == 3
    rain = ev[f"weather-rainstorm-{HAIZHOU}-2026112814"]
    # 54471 corrected to 2.0 + 2.5 + 48.0 = 52.5 mm in 3 hours, A3817's 13h to 7.5 (3.0 + 7.5 + 55.0 = 65.5 mm):
    # both still orange, the event rests on A3817's larger total, reported at the earlier onset (14:07;
    # 54471's current version is the 19:45 correction).
    assert (rain["lon"], rain["lat"]) == STATIONS["A3817"][1:3]
    assert rain["description"] == "海州街道 2026-11-28 14时 3小时降水 65.5 mm 达暴雨橙色预警信号标准"
    assert (rain["reported_at"], rain["report_lag_minutes"]) == (at(28, 14, 7), 7)
    gale = ev[f"weather-gale-{TENGAO}-2026112814"]
    # Corrected to 36.1 m/s: extreme (≥ 2 × 17.2), but first reported at 14:10 all the same.
    assert gale["severity"] == "extreme"
    assert (gale["reported_at"], gale["report_lag_minutes"]) == (at(28, 14, 10), 10)

    # The incremental result equals a full rebuild (apart from the row marked above).
    with raw_weather.begin() as c:
        c.execute(
            sa.text("update marts.fct_weather_hourly_extremes set avg_temp_c = 3.5 where hourly_extreme_id = :a"),
            {"a": untouched},
        )
    incremental = extremes(raw_weather)
    assert build(settings, select="fct_weather_hourly_extremes", full_refresh=True).success
    assert extremes(raw_weather) == incremental


@pytest.mark.integration
def test_source_freshness_reports_a_status(settings: Settings, raw_weather: sa.Engine) -> None:
    stale = source_freshness(settings)
    assert stale["status"] == "error"  # newest batch extracted 2026-11-28 21:30 +08:00, > 6 h ago
    assert stale["sources"]["weather.observations"]["status"] == "error"
    assert "weather.stations" not in stale["sources"]  # no freshness rule for the snapshot

    with raw_weather.begin() as c:
        insert_observations(c, CORRECTION_BATCH[:1], "obs-now", datetime.now(UTC))
    fresh = source_freshness(settings)
    # The other sources' tables are declared but empty here: only weather turns fresh.
    assert fresh["sources"]["weather.observations"]["status"] == "pass"
    assert fresh["sources"]["weather.observations"]["age_seconds"] < 600


@pytest.mark.integration
def test_every_mart_has_an_enforced_contract(settings: Settings) -> None:
    result = run_dbt(settings, ["parse"])
    manifest = json.loads((result.target_path / "manifest.json").read_text(encoding="utf-8"))
    marts = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    }
    assert {n["name"] for n in marts.values()} >= {"fct_weather_hourly_extremes", "fct_hazard_event"}
    for uid, node in marts.items():
        assert node["config"]["contract"]["enforced"] is True, uid
        assert node["schema"] == "marts", uid
        assert node["description"], uid
        for name, column in node["columns"].items():
            assert column["data_type"], f"{uid}.{name} has no data_type"
            assert column["description"], f"{uid}.{name} has no description"
    schemas = {n["name"]: n["schema"] for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")}
    assert schemas["stg_weather__observations"] == "staging"
    assert schemas["int_observations_located"] == "intermediate"
    assert schemas["ref_divisions"] == "ref"
    assert {e["type"] for e in manifest["exposures"].values()} == {"dashboard", "application"}


@pytest.mark.integration
def test_failing_build_names_the_failing_nodes(settings: Settings) -> None:
    # No raw tables: the staging views cannot be created.
    with pytest.raises(DbtError) as info:
        build(settings, select="+fct_weather_hourly_extremes")
    message = str(info.value)
    assert "model.haicheng_edp.base_weather__observation_versions" in message
    assert "weather__observations" in message  # the tail of dbt's output says what is missing
    assert info.value.result is not None and not info.value.result.success


def test_dbt_env_comes_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", warehouse_url="postgresql://edp:s3cret@db.example:6543/warehouse")
    env = dbt_env(settings)
    assert Conn(
        env["EDP_DBT_HOST"],
        int(env["EDP_DBT_PORT"]),
        env["EDP_DBT_USER"],
        env["EDP_DBT_PASSWORD"],
        env["EDP_DBT_DBNAME"],
    ) == Conn("db.example", 6543, "edp", "s3cret", "warehouse")
    assert env["DBT_PROFILES_DIR"] == env["DBT_PROJECT_DIR"] == str(REPO_ROOT / "dbt")
    for key in ("DBT_TARGET_PATH", "DBT_LOG_PATH"):
        assert Path(env[key]).is_relative_to(tmp_path / "home" / "dbt")
    assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    # dbt's sessions get the platform's PostgreSQL options after any the operator set.
    assert env["PGOPTIONS"].endswith("-c random_page_cost=1.1 -c jit=off")
    # Named after the command, and ended by the server when dbt dies (edp.storage.sessions).
    assert env["EDP_DBT_APPLICATION_NAME"].startswith("edp:") and env["EDP_DBT_APPLICATION_NAME"].endswith(
        "/dbt:" + str(os.getpid())
    )
    assert "-c client_connection_check_interval=5000" in env["PGOPTIONS"]
    tuned = Settings(home=tmp_path / "home", warehouse_url=settings.warehouse_url, dbt_session_options="-c jit=on")
    assert dbt_env(tuned)["PGOPTIONS"].endswith("-c jit=on")
