"""Transport bureau stand-in → lake → raw, against a real PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from standins.transport import create_app

from connectors.http import SourceRejected, SourceUnavailable
from connectors.transport import DATASETS
from connectors.transport.cursor import Cursor
from edp.ingest.extract import DatasetErrors, SchemaDriftError, extract
from edp.ingest.loader import load_pending
from edp.ingest.sources import build_source
from edp.orchestration.pipeline import ingest
from edp.secrets import source_credential
from edp.settings import Settings
from edp.storage import ops
from tests.support import warehouse
from tests.support.sources import write_sources_file
from tests.support.standin_servers import StandinServers
from tests.support.warehouse import column, count, identical_versions

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
KEYS = {
    "road_events": "event_id",
    "bridges": "bridge_code",
    "hazmat_carriers": "credit_code",
    "hazmat_waybills": "waybill_no",
}
RESOURCE = {
    "road_events": "road-events",
    "bridges": "bridges",
    "hazmat_carriers": "hazmat/carriers",
    "hazmat_waybills": "hazmat/waybills",
}


def sources_file(tmp_path: Path, **options: object) -> Path:
    """A sources.yml with only transport (no client-side rate limit unless given)."""
    credentials = {"client_id": "EDP_TRANSPORT_CLIENT_ID", "client_secret": "EDP_TRANSPORT_CLIENT_SECRET"}
    return write_sources_file(tmp_path, "transport", credentials=credentials, **{"rate_per_second": 0, **options})


@pytest.fixture
def transport(
    settings: Settings, standin_servers: StandinServers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[Settings, object]:
    """The stand-in (scale 1) on a free port with its clock frozen at NOW; the platform pointed at it."""
    for var in ("EDP_TRANSPORT_CLIENT_ID", "EDP_TRANSPORT_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    app = create_app(
        client_id=source_credential(settings, "transport", "client_id"),
        client_secret=source_credential(settings, "transport", "client_secret"),
        seed=7,
        scale=1.0,
        rate_limit_per_second=None,
    )
    app.state.clock.freeze(NOW)
    standin_servers.start(app, source="transport")
    return Settings(sources_file=sources_file(tmp_path)), app


def rows(s: Settings, dataset: str) -> int:
    return count(s, f'select count(*) from raw."transport__{dataset}"')


def dupes(s: Settings, dataset: str) -> int:
    return identical_versions(s, f'raw."transport__{dataset}"', DATASETS[dataset].field_names)


def served(app, dataset: str) -> int:
    """Records (tombstones included) the stand-in serves now: what one full read lands."""
    service = app.state.service
    return len(service.feed(RESOURCE[dataset]).rows(service.now()))


def stats(s: Settings) -> dict:
    return httpx.get(f"{s.source('transport').url}/__admin/stats").json()


def cursors(s: Settings) -> dict[str, str | None]:
    return {d: ops.get_cursor(s, "transport", d) for d in KEYS}


def last_batch(s: Settings, dataset: str) -> dict:
    (batch,) = warehouse.rows(
        s, "select * from ops.batches where dataset=:d order by extracted_at desc limit 1", d=dataset
    )
    return batch


def test_ingest_twice_adds_nothing_and_lands_everything_once(transport) -> None:
    s, app = transport
    started = time.perf_counter()
    first = ingest("transport", s, until=NOW)
    elapsed = time.perf_counter() - started
    assert first["quarantined"] == 0 and first["loaded"] == 4
    for dataset in KEYS:
        assert rows(s, dataset) == served(app, dataset) > 0, dataset
    stored = cursors(s)
    assert all(stored.values())
    second = ingest("transport", s, until=NOW)
    assert second["rows"] == 0  # the records at each stored cursor were recognised as loaded
    for dataset in KEYS:
        assert rows(s, dataset) == served(app, dataset) and dupes(s, dataset) == 0
    assert cursors(s) == stored
    unlabelled = "select count(*) from raw.transport__hazmat_waybills where _batch_id is null or _source <> 'transport'"
    assert count(s, unlabelled) == 0
    print(f"\ntransport ingest at scale 1: {first['rows']} rows in {elapsed:.2f} s")


def test_changes_after_the_clock_moves_are_loaded_once(transport) -> None:
    s, app = transport
    ingest("transport", s, until=NOW)
    before = rows(s, "hazmat_waybills")
    app.state.clock.advance(timedelta(hours=4))
    later = NOW + timedelta(hours=4)
    ingest("transport", s, until=later)
    ingest("transport", s, until=later)
    assert rows(s, "hazmat_waybills") > before
    assert all(dupes(s, d) == 0 for d in KEYS)
    # Every waybill's latest version in raw is the one the bureau serves now.
    latest = {
        r["waybill_no"]: r["status"]
        for r in warehouse.rows(
            s,
            "select distinct on (waybill_no) waybill_no, status from raw.transport__hazmat_waybills "
            "order by waybill_no, updated_at desc",
        )
    }
    service = app.state.service
    served_now = {key: v.fields["status"] for _, key, v in service.feed("hazmat/waybills").rows(service.now())}
    assert latest == served_now


def test_records_added_with_the_stored_updated_at_are_picked_up_and_none_repeated(transport) -> None:
    s, app = transport
    ingest("transport", s, until=NOW)
    stored = Cursor.decode(ops.get_cursor(s, "transport", "hazmat_waybills"))
    service = app.state.service
    template = service.record("hazmat/waybills", stored.last_id)
    below, above = "YD2103002026112818000", stored.last_id + "9"  # ids either side of the stored last id
    assert below < stored.last_id < above
    service.upsert(
        "hazmat/waybills", [{**template, "waybill_no": below}, {**template, "waybill_no": above}], at=stored.updated_at
    )
    before = rows(s, "hazmat_waybills")
    ingest("transport", s, until=NOW)
    assert rows(s, "hazmat_waybills") == before + 2
    batch = last_batch(s, "hazmat_waybills")
    assert batch["inserted_count"] == 2 and batch["row_count"] == stored.count + 2
    assert (
        count(s, "select count(*) from raw.transport__hazmat_waybills where waybill_no in (:a, :b)", a=below, b=above)
        == 2
    )
    assert Cursor.decode(ops.get_cursor(s, "transport", "hazmat_waybills")).count == stored.count + 2
    ingest("transport", s, until=NOW)
    assert last_batch(s, "hazmat_waybills")["row_count"] == 0
    assert rows(s, "hazmat_waybills") == before + 2 and dupes(s, "hazmat_waybills") == 0


def test_shared_updated_at_across_a_page_boundary_across_runs(transport, tmp_path) -> None:
    s, app = transport
    s = Settings(sources_file=sources_file(tmp_path, page_size=3))
    extract(s, "transport", ["bridges"], until=NOW)
    load_pending(s, "transport")
    stored = Cursor.decode(ops.get_cursor(s, "transport", "bridges"))
    assert stored.count > 3  # the group stamped with the cursor's second spans pages
    template = app.state.service.record("bridges", stored.last_id)
    app.state.service.upsert("bridges", [{**template, "bridge_code": "G1210381L0000"}], at=stored.updated_at)
    extract(s, "transport", ["bridges"], until=NOW)
    load_pending(s, "transport")
    assert last_batch(s, "bridges")["inserted_count"] == 1
    extract(s, "transport", ["bridges"], until=NOW)
    load_pending(s, "transport")
    assert last_batch(s, "bridges")["row_count"] == 0
    assert rows(s, "bridges") == served(app, "bridges") and dupes(s, "bridges") == 0


def test_deleted_records_arrive_with_deleted_true(transport) -> None:
    s, app = transport
    ingest("transport", s, until=NOW)
    service = app.state.service
    tombstones = sum(1 for _, _, v in service.feed("hazmat/waybills").rows(service.now()) if v.deleted)
    assert tombstones > 0
    assert count(s, "select count(*) from raw.transport__hazmat_waybills where deleted") == tombstones
    assert count(s, "select count(*) from raw.transport__hazmat_waybills where deleted is null") == 0
    bridge = next(key for _, key, v in service.feed("bridges").rows(service.now()) if not v.deleted)
    service.delete("bridges", [bridge])
    ingest("transport", s, until=NOW)
    versions = column(
        s, "select deleted from raw.transport__bridges where bridge_code=:b order by updated_at", b=bridge
    )
    assert versions == [False, True]
    ingest("transport", s, until=NOW)
    assert count(s, "select count(*) from raw.transport__bridges where bridge_code=:b", b=bridge) == 2


def test_an_expired_token_mid_run_is_renewed(transport, tmp_path) -> None:
    s, app = transport
    s = Settings(sources_file=sources_file(tmp_path, page_size=50))
    app.state.service.faults.token_max_uses = 3  # the bureau expires each token after three calls
    ingest("transport", s, until=NOW)
    seen = stats(s)
    assert seen["tokens_rejected"] >= 3 and seen["tokens_issued"] >= 4
    assert all(rows(s, d) == served(app, d) for d in KEYS)


def test_a_token_refused_again_after_renewal_is_a_clear_error(transport) -> None:
    s, app = transport
    app.state.service.faults.reject_tokens = True
    with pytest.raises(SourceRejected, match="answered 401 again with a token issued just now"):
        ingest("transport", s, until=NOW)
    assert not any(cursors(s).values())


def test_wrong_client_secret_fails_check_and_ingest(transport, monkeypatch) -> None:
    s, _ = transport
    monkeypatch.setenv("EDP_TRANSPORT_CLIENT_SECRET", "not-the-secret")
    src = build_source(s, "transport")
    result = src.check()
    src.close()
    assert not result.ok and "invalid_client" in result.message and "not-the-secret" not in result.message
    with pytest.raises(SourceRejected, match="refused our client credentials"):
        ingest("transport", s, until=NOW)


def test_429_and_503_are_retried_and_nothing_is_lost(transport, tmp_path) -> None:
    s, app = transport
    s = Settings(sources_file=sources_file(tmp_path, page_size=150))
    app.state.service.faults.update({"fail_503_rate": 0.3, "fail_429_rate": 0.2})
    result = ingest("transport", s, until=NOW)
    by_status = stats(s)["requests"]["by_status"]
    assert by_status.get("503", 0) > 0 and by_status.get("429", 0) > 0
    assert result["quarantined"] == 0
    assert all(rows(s, d) == served(app, d) for d in KEYS)


def test_outage_is_a_clear_error_and_cursors_stay(transport, tmp_path) -> None:
    s, app = transport
    s = Settings(sources_file=sources_file(tmp_path, max_seconds=2))
    app.state.service.faults.outage = True
    with pytest.raises(SourceUnavailable, match="still failing after retries"):
        ingest("transport", s, until=NOW)
    assert not any(cursors(s).values())


def test_slow_answers_are_waited_for_and_too_slow_ones_give_up_clearly(transport, tmp_path) -> None:
    s, app = transport
    app.state.service.faults.slow_seconds = 0.05
    ingest("transport", s, until=NOW)
    assert all(rows(s, d) == served(app, d) for d in KEYS)
    app.state.service.faults.slow_seconds = 1.0
    impatient = Settings(sources_file=sources_file(tmp_path, timeout_seconds=0.3, max_seconds=1))
    with pytest.raises(SourceUnavailable, match="ReadTimeout"):
        ingest("transport", impatient, until=NOW)


def test_malformed_records_are_quarantined_with_reasons_and_the_rest_loads(transport) -> None:
    s, app = transport
    app.state.service.faults.malformed_rate = 0.05
    result = ingest("transport", s, until=NOW)
    assert result["quarantined"] > 0
    q = warehouse.rows(s, "select dataset, locator, field, reason from ops.quarantine")
    batches = warehouse.rows(s, "select * from ops.batches where origin='extract'")
    assert {r["dataset"] for r in q} == set(KEYS)
    assert all(r["reason"] and r["field"] and r["locator"].startswith(f"landing/transport/{r['dataset']}/") for r in q)
    assert {"lat", "un_no", "waybill_no", "credit_code"} & {r["field"] for r in q}
    for b in batches:
        assert b["source_rows"] == b["row_count"] + b["quarantined_count"] + b["duplicate_count"]
    quarantined = {d: sum(1 for r in q if r["dataset"] == d) for d in KEYS}
    assert all(rows(s, d) + quarantined[d] == served(app, d) for d in KEYS)


def test_the_same_record_on_two_pages_is_loaded_once(transport, tmp_path) -> None:
    s, app = transport
    s = Settings(sources_file=sources_file(tmp_path, page_size=40))
    app.state.service.faults.duplicate_rate = 1.0
    ingest("transport", s, until=NOW)
    assert last_batch(s, "hazmat_waybills")["duplicate_count"] > 0
    assert all(rows(s, d) == served(app, d) and dupes(s, d) == 0 for d in KEYS)


def test_missing_required_field_stops_that_dataset_and_the_others_still_load(transport) -> None:
    s, app = transport
    app.state.service.faults.drift_bridges = True  # the bureau renamed name -> bridge_name
    with pytest.raises(DatasetErrors, match=r"transport\.bridges: required column\(s\) name missing") as err:
        ingest("transport", s, until=NOW)
    assert set(err.value.errors) == {"bridges"}
    assert isinstance(err.value.errors["bridges"], SchemaDriftError)
    # The other datasets were extracted and loaded all the same.
    assert all(rows(s, d) == served(app, d) for d in ("road_events", "hazmat_carriers", "hazmat_waybills"))
    assert ops.get_cursor(s, "transport", "bridges") is None
    assert count(s, "select (to_regclass('raw.transport__bridges') is null)::int") == 1


def test_a_new_field_is_kept_in_extra_and_reported(transport) -> None:
    s, app = transport
    app.state.service.faults.new_field = True
    ingest("transport", s, until=NOW)
    assert count(s, "select count(*) from raw.transport__hazmat_waybills where _extra->>'tank_volume_m3' is null") == 0
    assert count(s, "select count(*) from raw.transport__bridges where (_extra->>'load_limit_t')::int = 55") == rows(
        s, "bridges"
    )
    drift = last_batch(s, "road_events")["schema_drift"]
    assert drift == {"new_columns": ["lane"]}
