"""Logging setup: one format, secrets never formatted into messages."""

from __future__ import annotations

import logging

from edp.settings import Settings


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "great_expectations", "urllib3", "pgserver"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
