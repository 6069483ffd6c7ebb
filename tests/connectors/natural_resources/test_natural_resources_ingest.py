"""自然资源局 WFS stand-in → lake → raw, against a real PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from standins.natural_resources import create_app

from connectors.http import SourceUnavailable
from connectors.natural_resources.ows import WfsExceptionReport
from connectors.natural_resources.source import IncompleteSnapshot, cursor_digest
from edp.errors import EdpError
from edp.orchestration.pipeline import ingest
from edp.settings import Settings
from edp.storage import ops
from tests.support.platform_scan import clear_values_found
from tests.support.sources import write_sources_file
from tests.support.standin_servers import StandinServers
from tests.support.warehouse import column, count, repeated_keys, rows

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
TABLES = {"hazard_points": "dz:hazard_points", "mining_rights": "kc:mining_rights", "shelters": "yj:shelters"}


def sources_file(tmp_path: Path, **options: object) -> Path:
    """A sources.yml with only natural_resources, with these options."""
    return write_sources_file(tmp_path, "natural_resources", schedule="0 3 * * *", **options)


@pytest.fixture
def wfs(settings: Settings, standin_servers: StandinServers, tmp_path: Path) -> tuple[Settings, Any]:
    """The WFS stand-in on a free port (scale 0.5), the platform pointed at it."""
    app = create_app(seed=21, scale=0.5)
    app.state.clock.freeze(NOW)
    standin_servers.start(app, source="natural_resources")
    return Settings(sources_file=sources_file(tmp_path, max_seconds=5)), app


def layer_size(app: Any, dataset: str) -> int:
    return len(app.state.service.features[TABLES[dataset]])


def failure(raised: BaseException, cls: type[Exception]) -> Exception:
    """The error of ``cls`` itself, or inside the platform's per-dataset ``DatasetErrors`` (``.errors``)."""
    if isinstance(raised, cls):
        return raised
    inner = [e for e in getattr(raised, "errors", {}).values() if isinstance(e, cls)]
    assert inner, f"expected {cls.__name__}, got {raised!r}"
    return inner[0]


def batches(s: Settings, dataset: str) -> list[dict[str, Any]]:
    return [b for b in ops.batches(s, source="natural_resources") if b["dataset"] == dataset]


def test_ingest_twice_adds_nothing_then_a_change_adds_one_snapshot(wfs) -> None:
    s, app = wfs
    first = ingest("natural_resources", s, until=NOW)
    assert first["quarantined"] == 0
    for dataset in TABLES:
        assert count(s, f"select count(*) from raw.natural_resources__{dataset}") == layer_size(app, dataset)
        assert cursor_digest(ops.get_cursor(s, "natural_resources", dataset))
    cursors = {d: ops.get_cursor(s, "natural_resources", d) for d in TABLES}

    second = ingest("natural_resources", s, until=NOW)
    assert second["rows"] == 0  # the snapshots are unchanged: no page, no row
    for dataset in TABLES:
        assert count(s, f"select count(*) from raw.natural_resources__{dataset}") == layer_size(app, dataset)
        assert ops.get_cursor(s, "natural_resources", dataset) == cursors[dataset]
        assert [b["row_count"] for b in batches(s, dataset)][-1] == 0

    retired = app.state.service.retire_hazard_point()
    licence = app.state.service.add_mining_licence()
    ingest("natural_resources", s, until=NOW)
    sites, licences = layer_size(app, "hazard_points"), layer_size(app, "mining_rights")
    assert count(s, "select count(*) from raw.natural_resources__hazard_points") == 2 * sites
    assert count(s, "select count(*) from raw.natural_resources__mining_rights") == (licences - 1) + licences
    assert count(s, "select count(*) from raw.natural_resources__shelters") == layer_size(app, "shelters")
    history = column(
        s, "select zt from raw.natural_resources__hazard_points where yhdbh = :k order by _extracted_at", k=retired
    )
    assert history == ["在册", "核销"]
    assert (
        count(
            s, "select count(distinct _batch_id) from raw.natural_resources__mining_rights where xkzh = :k", k=licence
        )
        == 1
    )
    assert repeated_keys(s, "raw.natural_resources__hazard_points", "_batch_id", "yhdbh") == 0
    # The cursor moved to the changed snapshots: pulling again adds nothing.
    assert ingest("natural_resources", s, until=NOW)["rows"] == 0
    assert count(s, "select count(*) from raw.natural_resources__hazard_points") == 2 * sites


def test_geometry_and_privacy_reach_raw(wfs, caplog) -> None:
    s, app = wfs
    caplog.set_level(logging.DEBUG)
    ingest("natural_resources", s, until=NOW)
    (row,) = rows(
        s,
        "select geometry_wkt, lon, lat, jczrr_pseudonym, jczrr_masked "
        "from raw.natural_resources__hazard_points limit 1",
    )
    shapes = column(s, "select distinct split_part(geometry_wkt, ' ', 1) from raw.natural_resources__mining_rights")
    assert row["geometry_wkt"].startswith("POINT (") and 122 < row["lon"] < 124 and 40 < row["lat"] < 42
    assert row["jczrr_pseudonym"].startswith("name_") and row["jczrr_masked"].endswith("*")
    assert set(shapes) == {"POLYGON", "MULTIPOLYGON"}
    names = sorted({f["properties"]["jczrr"] for f in app.state.service.features["dz:hazard_points"]})
    assert len(names) > 10
    assert clear_values_found(s, names, caplog) == []
    # 采矿权人 is an enterprise: kept as it is.
    assert count(s, "select count(*) from raw.natural_resources__mining_rights where cqr like '海城市%公司'") > 0


def test_malformed_features_are_quarantined_with_reason_and_nothing_is_lost(wfs) -> None:
    s, app = wfs
    app.state.service.faults.malformed_rate = 0.08
    result = ingest("natural_resources", s, until=NOW)
    assert result["quarantined"] > 0
    quarantined = rows(s, "select dataset, locator, field, reason from ops.quarantine")
    for dataset in TABLES:
        b = batches(s, dataset)[-1]
        assert b["source_rows"] == b["row_count"] + b["quarantined_count"] + b["duplicate_count"]
        assert b["row_count"] + b["quarantined_count"] == layer_size(app, dataset)
    fields = {q["field"] for q in quarantined}
    assert "geometry_geojson" in fields
    assert all(q["locator"].startswith(f"landing/natural_resources/{q['dataset']}/") for q in quarantined)
    reasons = " | ".join(q["reason"] for q in quarantined)
    assert "no geometry" in reasons or "Self-intersection" in reasons or "swapped" in reasons


def test_exception_report_with_http_200_stops_with_a_clear_error(wfs) -> None:
    s, app = wfs
    app.state.service.faults.update({"backend_error": True, "exceptions_http_200": True})
    with pytest.raises(EdpError) as caught:
        ingest("natural_resources", s, until=NOW)
    message = str(failure(caught.value, WfsExceptionReport))
    assert "HTTP 200" in message and "exceptionCode=NoApplicableCode" in message
    assert "could not acquire a connection" in message and "typeNames=dz:hazard_points" in message
    assert ops.get_cursor(s, "natural_resources", "hazard_points") is None
    assert count(s, "select count(*) from ops.batches where status = 'loaded'") == 0


def test_unstable_paging_is_read_again_and_loses_nothing(wfs, tmp_path) -> None:
    s, app = wfs
    s = Settings(sources_file=sources_file(tmp_path, page_size=25, max_seconds=5, snapshot_attempts=6))
    app.state.service.faults.unstable_sort_rate = 0.3
    result = ingest("natural_resources", s, until=NOW)
    stats = httpx.get(f"{s.source('natural_resources').url}/__admin/stats").json()["counters"]
    assert stats["unstable_pages"] > 0
    assert result["quarantined"] == 0
    for dataset, layer in TABLES.items():
        key = {"hazard_points": "yhdbh", "mining_rights": "xkzh", "shelters": "bncsbh"}[dataset]
        assert count(s, f"select count(distinct {key}) from raw.natural_resources__{dataset}") == len(
            app.state.service.features[layer]
        )
        assert count(s, f"select count(*) from raw.natural_resources__{dataset}") == layer_size(app, dataset)
    assert sum(b["duplicate_count"] for b in ops.batches(s, source="natural_resources")) > 0


def test_paging_that_stays_unstable_is_a_clear_error_and_nothing_loads(wfs, tmp_path) -> None:
    s, app = wfs
    s = Settings(sources_file=sources_file(tmp_path, page_size=25, max_seconds=5, snapshot_attempts=2))
    app.state.service.faults.unstable_sort_rate = 1.0
    with pytest.raises(EdpError) as caught:
        ingest("natural_resources", s, until=NOW)
    assert "distinct of numberMatched=80 features in 2 reads" in str(failure(caught.value, IncompleteSnapshot))
    assert count(s, "select count(*) from ops.batches where dataset = 'hazard_points'") == 0
    assert count(s, "select count(*) from ops.batches where status = 'loaded' and dataset = 'shelters'") == 1
    assert ops.get_cursor(s, "natural_resources", "hazard_points") is None


def test_503s_are_retried(wfs, tmp_path) -> None:
    s, app = wfs
    s = Settings(sources_file=sources_file(tmp_path, page_size=10, max_seconds=20))  # many requests: some surely fail
    app.state.service.faults.fail_503_rate = 0.5
    result = ingest("natural_resources", s, until=NOW)
    by_status = httpx.get(f"{s.source('natural_resources').url}/__admin/stats").json()["requests"]["by_status"]
    assert by_status.get("503", 0) > 0
    assert result["rows"] == sum(layer_size(app, d) for d in TABLES)


def test_outage_and_slow_answers_end_in_a_clear_error_within_the_budget(wfs, tmp_path) -> None:
    s, app = wfs
    app.state.service.faults.outage = True
    started = datetime.now(UTC)
    with pytest.raises(SourceUnavailable, match="still failing after retries"):
        ingest("natural_resources", s, until=NOW)
    assert (datetime.now(UTC) - started).total_seconds() < 30
    app.state.service.faults.update({"outage": False, "slow_seconds": 1.0})
    slow = Settings(sources_file=sources_file(tmp_path, max_seconds=2, timeout=0.3))
    with pytest.raises(SourceUnavailable, match="ReadTimeout"):
        ingest("natural_resources", slow, until=NOW)
    assert ops.get_cursor(s, "natural_resources", "hazard_points") is None
