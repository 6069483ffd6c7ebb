"""The alert channels' other ends, real and on loopback: ``webhook`` (an http.server receiver) and ``mailbox``
(an aiosmtpd SMTP server that asks for a login); ``with_webhook`` / ``with_email`` point settings at them."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from pydantic import SecretStr

from edp.settings import Settings

SMTP_USER, SMTP_PASSWORD = "edp-alerts", "smtp-pass-for-tests"
# The webhook URL carries a token, as many receivers' do: it must never show in a log line or an error.
WEBHOOK_TOKEN = "tok-secret-123"
RECIPIENTS = ("duty@haicheng.example", "data-team@haicheng.example")


@dataclass
class Webhook:
    """Every JSON body POSTed to it; answers ``status`` (set it to make the receiver fail)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    status: int = 200

    def events(self) -> list[str]:
        return [body["event"] for body in self.received]


@contextlib.contextmanager
def webhook_receiver() -> Iterator[Webhook]:
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            hook.attempts += 1
            if hook.status < 300:
                hook.received.append(body)
            self.send_response(hook.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/edp?access_token={WEBHOOK_TOKEN}"
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Mailbox:
    port: int
    messages: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def smtp_mailbox() -> Iterator[Mailbox]:
    box = Mailbox(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
            box.messages.append(envelope)
            return "250 Message accepted for delivery"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    controller = Controller(
        Handler(), hostname="127.0.0.1", port=box.port, authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def with_webhook(settings: Settings, url: str, **more: Any) -> Settings:
    return settings.model_copy(update={"alert_webhook_url": url, **more})


def with_email(settings: Settings, box: Mailbox, **more: Any) -> Settings:
    return settings.model_copy(
        update={
            "alert_smtp_host": "127.0.0.1",
            "alert_smtp_port": box.port,
            "alert_smtp_user": SMTP_USER,
            "alert_smtp_password": SecretStr(SMTP_PASSWORD),
            "alert_email_from": "edp@haicheng.example",
            "alert_email_to": ", ".join(RECIPIENTS),
            **more,
        }
    )


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A real HTTP server on a loopback port that keeps every alert POSTed to it."""
    with webhook_receiver() as hook:
        yield hook


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on a loopback port that asks for a login and keeps every message."""
    with smtp_mailbox() as box:
        yield box
