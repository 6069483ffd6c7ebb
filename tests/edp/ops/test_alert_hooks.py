"""What raises and resolves alerts: Airflow's task callbacks and the quality gate."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from edp.alerts import open_alerts, recent_alerts
from edp.alerts.hooks import held_key, quality_checked, quality_key, task_key
from edp.errors import SourceUnavailable
from edp.orchestration.dag_factory import DEFAULT_ARGS, alert_on_failure, resolve_on_success
from edp.quality.runner import dataset_status, run_checks
from edp.settings import Settings, reset_settings
from tests.support.alert_channels import Webhook
from tests.support.warehouse import rows
from tests.support.weather_tables import RAW, create_weather_tables, insert, observation, this_hour


def _context(dag_id: str, task_id: str, exception: BaseException | None = None, **ti: Any) -> dict[str, Any]:
    """What Airflow 3's task runner hands a task callback (the parts the hooks read)."""
    instance = SimpleNamespace(dag_id=dag_id, task_id=task_id, run_id="scheduled__2026-07-01T08:00:00+00:00",
                               try_number=3, map_index=-1, **ti)  # fmt: skip
    context: dict[str, Any] = {"ti": instance, "task_instance": instance, "dag": SimpleNamespace(dag_id=dag_id),
                               "run_id": instance.run_id}  # fmt: skip
    if exception is not None:
        context["exception"] = exception
    return context


@pytest.fixture
def alerted(settings: Settings, webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The platform's own settings (what a task's callback reads) with the webhook configured."""
    monkeypatch.setenv("EDP_ALERT_WEBHOOK_URL", webhook.url)
    reset_settings()
    return settings.model_copy(update={"alert_webhook_url": webhook.url})


def test_every_task_has_the_alert_callbacks() -> None:
    assert DEFAULT_ARGS["on_failure_callback"] is alert_on_failure
    assert DEFAULT_ARGS["on_success_callback"] is resolve_on_success


@pytest.mark.integration
def test_a_failed_task_raises_an_alert_and_its_next_success_resolves_it(alerted: Settings, webhook: Webhook) -> None:
    down = SourceUnavailable(
        "weather: GET https://edp:pa55@weather.example/api/v1/obs?key=k-42 gave 503 five times\n  File ...\n"
    )
    alert_on_failure(_context("weather", "extract", down))
    alert_on_failure(_context("weather", "extract", down))
    alert_on_failure(_context("transform", "dbt_build", RuntimeError("dbt build failed: 2 models errored")))

    weather, transform = sorted(open_alerts(alerted), key=lambda a: a.key, reverse=True)
    assert (weather.key, weather.kind, weather.dag_id, weather.task_id, weather.dataset) == (
        task_key("weather", "extract"), "source_unavailable", "weather", "extract", "weather",
    )  # fmt: skip
    assert weather.occurrences == 2
    assert weather.reason == (
        "SourceUnavailable: weather: GET https://***@weather.example/api/v1/obs?key=*** gave 503 five times"
    )
    assert weather.details == {"run_id": "scheduled__2026-07-01T08:00:00+00:00", "try_number": 3, "map_index": -1,
                               "exception_type": "SourceUnavailable"}  # fmt: skip
    assert (transform.kind, transform.dataset) == ("task_failed", None)
    assert transform.reason == "RuntimeError: dbt build failed: 2 models errored"
    assert webhook.events() == ["raised", "raised"]

    resolve_on_success(_context("weather", "extract"))
    resolve_on_success(_context("weather", "extract"))  # nothing open: nothing sent
    resolve_on_success(_context("weather", "load"))  # another task of the DAG: not its alert

    assert [a.key for a in open_alerts(alerted)] == [task_key("transform", "dbt_build")]
    assert webhook.events() == ["raised", "raised", "resolved"]
    assert webhook.received[-1]["alert"]["key"] == task_key("weather", "extract")


def test_the_callbacks_never_raise(home_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    # home_settings: a warehouse nobody answers at; and a context without a task instance.
    with caplog.at_level(logging.WARNING, logger="edp.orchestration.dag_factory"):
        alert_on_failure(_context("weather", "extract", ValueError("boom")))
        resolve_on_success(_context("weather", "extract"))
        alert_on_failure({})
    assert [r.getMessage() for r in caplog.records] == [
        "the failure alert of this task was not recorded",
        "the failure alert of this task was not resolved",
        "the failure alert of this task was not recorded",
    ]


@pytest.mark.integration
def test_quality_hook_raises_per_blocked_dataset_and_resolves_the_rest(alerted: Settings, webhook: Webhook) -> None:
    a, b = "raw.water__river", "marts.fct_hazard_event"

    quality_checked(alerted, [a, b], {a: ["z_plausible_for_station"], b: ["table_is_readable"]}, run_id="run-1")
    quality_checked(alerted, [a, b], {a: ["z_plausible_for_station"]}, run_id="run-2")
    quality_checked(alerted, [b], {b: ["table_is_readable"]}, run_id="run-3")  # a not checked: stays open

    opened = {x.dataset: x for x in open_alerts(alerted)}
    assert set(opened) == {a, b}
    assert (opened[a].key, opened[a].kind, opened[a].occurrences) == (quality_key(a), "quality_blocked", 2)
    assert opened[a].reason == "1 blocking rule(s) failed: z_plausible_for_station"
    assert opened[a].details == {"run_id": "run-2", "rules": ["z_plausible_for_station"]}
    # b was resolved by run-2 and opened again by run-3: a new alert, the first one kept as history.
    recent = [(x.dataset, x.is_open) for x in recent_alerts(alerted, 1)]
    assert recent == [(b, True), (a, True), (b, False)]
    assert webhook.events() == ["raised", "raised", "resolved", "raised"]


@pytest.mark.integration
def test_a_held_row_raises_one_alert_and_a_passing_run_resolves_it(alerted: Settings, webhook: Webhook) -> None:
    # A batch re-sends an hour with an impossible value: a row-level rule holds that record back.
    create_weather_tables(alerted)
    later = this_hour() - timedelta(minutes=20)
    insert(alerted, RAW, [observation("54471", 2, "batch-3", precip_1h_mm=-5.0, updated_at=later)])
    bad = run_checks(alerted, [RAW])
    assert not bad.success
    assert dataset_status(alerted, [RAW]) == {RAW: "held"}

    (alert,) = open_alerts(alerted)
    assert (alert.kind, alert.key, alert.dataset, alert.occurrences) == ("quality_held", held_key(RAW), RAW, 1)
    assert "precip_1h_mm_in_range" in alert.reason and "--held" in alert.reason
    assert alert.details == {"run_id": bad.run_id, "rules": ["precip_1h_mm_in_range"]}
    assert webhook.events() == ["raised"]

    # The bureau corrects the hour: the next run passes and the alert is resolved.
    insert(alerted, RAW, [
        observation("54471", 2, "batch-4", precip_1h_mm=0.4, updated_at=this_hour() - timedelta(minutes=5),
                    _extracted_at=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)),
    ])  # fmt: skip
    assert run_checks(alerted, [RAW]).success
    assert open_alerts(alerted) == []
    assert webhook.events() == ["raised", "resolved"]
    (row,) = rows(alerted, "select key, resolved_at from ops.alerts")
    assert row["key"] == held_key(RAW) and row["resolved_at"] is not None
