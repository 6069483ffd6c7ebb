"""Fixtures of the alert tests: the channels' other ends on loopback (tests/support/alert_channels.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.alert_channels import Mailbox, Webhook, smtp_mailbox, webhook_receiver


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
