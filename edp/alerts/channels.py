"""Where alerts are sent: a webhook (JSON POST) and e-mail (plain text, 中文 and English).

A channel is used when its settings are set (``EDP_ALERT_WEBHOOK_URL``;
``EDP_ALERT_SMTP_HOST`` with ``EDP_ALERT_EMAIL_TO``). Each retries a few times
on a transient failure, then raises :class:`DeliveryFailed`; :func:`deliver`
turns that into one line per channel for the alert's row. The webhook URL
may hold a token: it is never logged nor written into an error.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal, Protocol

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from edp.alerts.store import LOCAL_TZ, Alert
from edp.alerts.text import one_line
from edp.settings import Settings

log = logging.getLogger(__name__)

PLATFORM = "海城市应急数据平台"
PLATFORM_EN = "Haicheng Emergency Data Platform"
Event = Literal["raised", "reminder", "resolved"]
EVENT_LABELS: dict[str, str] = {"raised": "新告警", "reminder": "告警提醒", "resolved": "告警已解除"}
KIND_LABELS: dict[str, str] = {
    "task_failed": "任务失败",
    "quality_blocked": "质量阻断",
    "quality_held": "记录扣留",
    "receipt_invalid": "回执无效",
    "source_unavailable": "数据源不可用",
}

WEBHOOK_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
SMTP_TIMEOUT = 5.0
ATTEMPTS = 3
# Seconds between attempts: 0.5, then 1 (a channel that is down costs the caller a few seconds, no more).
WAIT = wait_exponential(multiplier=0.5, max=2)


class DeliveryFailed(Exception):
    """A channel did not take the alert (after its retries); the message is safe to store."""


class Channel(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, event: Event, alert: Alert) -> None: ...


def payload(event: Event, alert: Alert) -> dict[str, Any]:
    """The webhook's JSON body."""
    return {
        "platform": PLATFORM,
        "platform_en": PLATFORM_EN,
        "event": event,
        "event_zh": EVENT_LABELS[event],
        "summary": subject(event, alert),
        "alert": alert.as_dict(),
    }


def subject(event: Event, alert: Alert) -> str:
    """``[EDP 告警] <kind> <dag/task> <dataset>: <reason>`` (reminders and resolutions say so)."""
    prefix = {
        "raised": "[EDP 告警]",
        "reminder": "[EDP 告警] 提醒 reminder:",
        "resolved": "[EDP 告警] 已解除 resolved:",
    }
    where = " ".join(p for p in (alert.where if alert.where != "-" else None, alert.dataset) if p)
    return one_line(f"{prefix[event]} {alert.kind} {where}: {alert.reason}", limit=200)


def body(event: Event, alert: Alert) -> str:
    """The e-mail text: each line in Chinese, then English."""

    def when(moment: Any) -> str:
        return f"{moment.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M:%S} (Asia/Shanghai)" if moment else "-"

    lines = [
        f"{PLATFORM} · {EVENT_LABELS[event]}",
        f"{PLATFORM_EN} · alert {event}",
        "",
        f"类型 Kind:            {KIND_LABELS.get(alert.kind, alert.kind)} ({alert.kind})",
        f"DAG / 任务 task:      {alert.where}",
        f"数据集 Dataset:       {alert.dataset or '-'}",
        f"原因 Reason:          {alert.reason}",
        f"首次出现 First seen:  {when(alert.first_seen_at)}",
        f"最近出现 Last seen:   {when(alert.last_seen_at)}",
        f"出现次数 Occurrences: {alert.occurrences}",
    ]
    if alert.resolved_at:
        lines.append(f"解除时间 Resolved:    {when(alert.resolved_at)}")
    lines += [
        f"告警编号 Alert id:    {alert.id} (key {alert.key})",
        "",
        "查看未解除的告警 Open alerts: edp alerts",
    ]
    if event != "resolved":
        lines += [
            f"问题处理后手动解除 Resolve by hand once fixed: edp alerts resolve {alert.id}",
            "同一告警再次出现时不会每次发送，未解除时按 EDP_ALERT_REPEAT_HOURS 提醒。",
            "A repeated alert is not sent on every run; while open it is re-sent every EDP_ALERT_REPEAT_HOURS.",
        ]
    return "\n".join(lines) + "\n"


def _retrying(transient: Callable[[BaseException], bool], channel: str, alert: Alert) -> Retrying:
    def before_sleep(state: Any) -> None:
        exc = state.outcome.exception() if state.outcome else None
        name = type(exc).__name__
        log.warning("alert %s: %s attempt %d failed (%s), retrying", alert.id, channel, state.attempt_number, name)

    return Retrying(
        stop=stop_after_attempt(ATTEMPTS),
        wait=WAIT,
        retry=retry_if_exception(transient),
        reraise=True,
        before_sleep=before_sleep,
    )


class _HttpStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@dataclass(frozen=True)
class Webhook:
    url: str = ""
    name: str = "webhook"

    def send(self, event: Event, alert: Alert) -> None:
        def transient(exc: BaseException) -> bool:
            return isinstance(exc, httpx.TransportError) or (
                isinstance(exc, _HttpStatus) and (exc.status >= 500 or exc.status == 429)
            )

        try:
            for attempt in _retrying(transient, self.name, alert):
                with attempt:
                    self._post(payload(event, alert))
        except Exception as exc:
            # httpx names the URL in some messages (it may hold a token): keep the type and the rest, never the URL.
            message = str(exc) if isinstance(exc, _HttpStatus) else f"{type(exc).__name__}: {exc}"
            raise DeliveryFailed(one_line(message.replace(self.url, "<webhook>"), limit=200)) from None

    def _post(self, body: dict[str, Any]) -> None:
        response = httpx.post(self.url, json=body, timeout=WEBHOOK_TIMEOUT, headers={"User-Agent": "edp-alerts"})
        if response.status_code >= 300:
            raise _HttpStatus(response.status_code)


@dataclass(frozen=True)
class Email:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    name: str = "email"

    def send(self, event: Event, alert: Alert) -> None:
        def transient(exc: BaseException) -> bool:
            if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
                return True
            if isinstance(exc, smtplib.SMTPResponseException):  # 4xx: the server asks to try again later
                return 400 <= exc.smtp_code < 500
            return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)

        try:
            for attempt in _retrying(transient, self.name, alert):
                with attempt:
                    self._send(self.message(event, alert))
        except Exception as exc:  # smtplib's errors are OSErrors; the message is the server's reply
            raise DeliveryFailed(one_line(f"{type(exc).__name__}: {exc}", limit=200)) from None

    def message(self, event: Event, alert: Alert) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = subject(event, alert)
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain="edp.local")
        msg.set_content(body(event, alert), charset="utf-8")
        return msg

    def _send(self, msg: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(msg)


def configured(settings: Settings) -> list[Channel]:
    """The channels whose settings are set (none: alerts are only recorded)."""
    channels: list[Channel] = []
    if settings.alert_webhook_url:
        channels.append(Webhook(settings.alert_webhook_url))
    recipients = tuple(r.strip() for r in settings.alert_email_to.split(",") if r.strip())
    if settings.alert_smtp_host and recipients:
        password = settings.alert_smtp_password.get_secret_value() if settings.alert_smtp_password else None
        channels.append(
            Email(
                host=settings.alert_smtp_host,
                port=settings.alert_smtp_port,
                sender=settings.alert_email_from,
                recipients=recipients,
                user=settings.alert_smtp_user,
                password=password,
                starttls=settings.alert_smtp_starttls,
            )
        )
    return channels


def deliver(channels: list[Channel], event: Event, alert: Alert) -> str | None:
    """Send to every channel; ``None`` when all took it, else one line naming each failure. Never raises."""
    failures: list[str] = []
    for channel in channels:
        try:
            channel.send(event, alert)
        except DeliveryFailed as exc:
            failures.append(f"{channel.name}: {exc}")
        except Exception as exc:  # a bug in a channel must not fail the pipeline either
            failures.append(f"{channel.name}: {type(exc).__name__}")
    if not failures:
        return None
    error = one_line("; ".join(failures), limit=500)
    log.warning("alert %s (%s) %s not delivered: %s", alert.id, alert.kind, event, error)
    return error
