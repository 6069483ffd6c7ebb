"""Alerts recorded, grouped and sent: a real webhook receiver and a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
import threading

import pytest
from pydantic import SecretStr

from edp.alerts import open_alerts, raise_alert, recent_alerts, resolve_alerts
from edp.settings import Settings
from tests.support.alert_channels import (
    RECIPIENTS,
    SMTP_USER,
    WEBHOOK_TOKEN,
    Mailbox,
    Webhook,
    free_port,
    with_email,
    with_webhook,
)
from tests.support.warehouse import execute, rows

pytestmark = pytest.mark.integration

FAILED = {
    "kind": "task_failed",
    "key": "task:weather/extract",
    "reason": "SourceUnavailable: weather: no answer after 5 tries",
    "dag_id": "weather",
    "task_id": "extract",
    "dataset": "weather",
}


def _alerts(settings: Settings) -> list[dict]:
    return rows(settings, "select * from ops.alerts order by id")


def test_three_raises_are_one_alert_and_one_notification(settings: Settings, webhook: Webhook) -> None:
    s = with_webhook(settings, webhook.url)

    first = raise_alert(s, **FAILED, details={"run_id": "r1"})
    raise_alert(s, **FAILED, details={"run_id": "r2"})
    third = raise_alert(s, **FAILED, details={"run_id": "r3"})

    (row,) = _alerts(s)
    assert row["id"] == first.id == third.id
    assert row["occurrences"] == third.occurrences == 3
    assert row["last_seen_at"] >= row["first_seen_at"]
    assert row["notified_at"] is not None and row["resolved_at"] is None
    assert row["details"] == {"run_id": "r3"}
    assert row["last_delivery_error"] is None

    assert webhook.events() == ["raised"]
    (body,) = webhook.received
    assert body["platform"] == "海城市应急数据平台"
    alert = body["alert"]
    assert {k: alert[k] for k in FAILED} == FAILED
    assert alert["id"] == first.id and alert["occurrences"] == 1 and alert["resolved_at"] is None
    assert alert["first_seen_at"].endswith("+08:00")  # ISO 8601, Asia/Shanghai
    assert [a.id for a in open_alerts(s)] == [first.id]


def test_an_open_alert_is_sent_again_after_the_repeat_window(settings: Settings, webhook: Webhook) -> None:
    s = with_webhook(settings, webhook.url, alert_repeat_hours=24)
    raise_alert(s, **FAILED)
    execute(s, "update ops.alerts set notified_at = now() - interval '23 hours'")
    raise_alert(s, **FAILED)
    assert webhook.events() == ["raised"]  # still inside the window

    execute(s, "update ops.alerts set notified_at = now() - interval '25 hours'")
    reminded = raise_alert(s, **FAILED)
    raise_alert(s, **FAILED)

    assert webhook.events() == ["raised", "reminder"]
    assert webhook.received[1]["alert"]["occurrences"] == 3
    assert reminded.occurrences == 3
    (row,) = _alerts(s)
    assert row["occurrences"] == 4


def test_resolving_notifies_and_a_later_raise_opens_a_new_alert(settings: Settings, webhook: Webhook) -> None:
    s = with_webhook(settings, webhook.url)
    opened = raise_alert(s, **FAILED)
    other = raise_alert(s, **{**FAILED, "key": "task:water/extract", "dag_id": "water", "dataset": "water"})

    (resolved,) = resolve_alerts(s, dag_id="weather", task_id="extract")

    assert resolved.id == opened.id and resolved.resolved_at is not None
    assert webhook.events() == ["raised", "raised", "resolved"]
    assert webhook.received[2]["alert"]["resolved_at"] is not None
    assert [a.id for a in open_alerts(s)] == [other.id]
    assert resolve_alerts(s, key=FAILED["key"]) == []  # nothing open any more: nothing sent
    assert len(webhook.received) == 3

    again = raise_alert(s, **FAILED)
    assert again.id != opened.id and again.occurrences == 1
    assert webhook.events()[-1] == "raised"
    assert [a.id for a in recent_alerts(s, 7)] == [again.id, other.id, opened.id]
    with pytest.raises(ValueError, match="at least one filter"):
        resolve_alerts(s)


def test_email_reaches_a_real_smtp_server(settings: Settings, mailbox: Mailbox) -> None:
    s = with_email(settings, mailbox)

    alert = raise_alert(s, **FAILED)
    raise_alert(s, **FAILED)
    resolve_alerts(s, key=FAILED["key"])

    assert mailbox.logins == [SMTP_USER, SMTP_USER]
    raised, resolved = mailbox.messages
    assert sorted(raised.rcpt_tos) == sorted(RECIPIENTS)
    message = email.message_from_bytes(raised.original_content or b"", policy=email.policy.default)
    assert message["Subject"] == f"[EDP 告警] task_failed weather/extract weather: {FAILED['reason']}"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "海城市应急数据平台" in text and "Haicheng Emergency Data Platform" in text
    assert "原因 Reason:" in text and FAILED["reason"] in text
    assert f"edp alerts resolve {alert.id}" in text
    closing = email.message_from_bytes(resolved.original_content or b"", policy=email.policy.default)
    assert closing["Subject"].startswith("[EDP 告警] 已解除 resolved: task_failed weather/extract")


def test_a_failing_channel_never_raises_is_recorded_and_retried(settings: Settings, webhook: Webhook) -> None:
    s = with_webhook(settings, webhook.url)
    webhook.status = 503

    alert = raise_alert(s, **FAILED)

    assert webhook.attempts == 3  # retried, then given up
    (row,) = _alerts(s)
    assert row["notified_at"] is None
    assert row["last_delivery_error"] == alert.last_delivery_error == "webhook: HTTP 503"

    # The receiver is back: the next occurrence sends the alert that was never delivered.
    webhook.status = 200
    raise_alert(s, **FAILED)
    assert webhook.events() == ["raised"]
    (row,) = _alerts(s)
    assert row["notified_at"] is not None and row["last_delivery_error"] is None


def test_an_unreachable_channel_is_recorded_without_its_secret(settings: Settings, mailbox: Mailbox) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hooks/edp?access_token={WEBHOOK_TOKEN}"
    s = with_email(with_webhook(settings, dead), mailbox, alert_smtp_password=SecretStr("wrong"))  # login refused

    raise_alert(s, **FAILED)
    (resolved,) = resolve_alerts(s, key=FAILED["key"])

    (row,) = _alerts(s)
    error = row["last_delivery_error"]
    assert error.startswith("webhook: ConnectError") and "; email: SMTPAuthenticationError" in error
    assert resolved.last_delivery_error == error
    assert WEBHOOK_TOKEN not in error and "127.0.0.1" not in error.split(";")[0]
    assert row["resolved_at"] is not None and mailbox.messages == []


def test_no_channel_configured_only_records(settings: Settings) -> None:
    alert = raise_alert(settings, **FAILED)
    assert (alert.notified_at, alert.last_delivery_error) == (None, None)
    (resolved,) = resolve_alerts(settings, alert_id=alert.id)
    assert resolved.resolved_at is not None and resolved.notified_at is None


def test_concurrent_raises_of_one_key_are_one_alert_sent_once(settings: Settings, webhook: Webhook) -> None:
    s = with_webhook(settings, webhook.url)
    raise_alert(s, **{**FAILED, "key": "warm-up"})  # the table exists before the race
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def raise_one() -> None:
        try:
            start.wait()
            raise_alert(s, **FAILED)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=raise_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert errors == []
    assert [(r["key"], r["occurrences"]) for r in _alerts(s)] == [("warm-up", 1), (FAILED["key"], 8)]
    assert webhook.events() == ["raised", "raised"]


def test_reason_is_one_line_without_secrets_or_personal_values(settings: Settings) -> None:
    alert = raise_alert(
        settings,
        kind="source_unavailable",
        key="source:transport",
        reason="ConnectError: https://svc:pa55@transport.example/api?api_key=k123 for 13812345678\nTraceback ...",
    )
    assert alert.reason == "ConnectError: https://***@transport.example/api?api_key=*** for ***"
