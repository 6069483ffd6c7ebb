"""Pointing the platform at a source: its URL variable, and a sources.yml of one source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edp.settings import Settings


def source_url_variable(source: str) -> str:
    """The environment variable that overrides a source's URL (``EDP_SOURCE_<NAME>_URL``)."""
    return f"EDP_SOURCE_{source.upper()}_URL"


def point_at(monkeypatch: pytest.MonkeyPatch, source: str, url: str, **settings: Any) -> Settings:
    """Point the platform's ``source`` at ``url`` (for this test) and return fresh Settings."""
    monkeypatch.setenv(source_url_variable(source), url)
    return Settings(**settings)


def write_sources_file(
    folder: Path,
    source: str,
    *,
    url: str = "sandbox",
    credentials: dict[str, str] | None = None,
    schedule: str | None = None,
    **options: Any,
) -> Path:
    """``folder/sources.yml`` declaring only ``source`` with these options (JSON, which YAML reads)."""
    entry: dict[str, Any] = {"url": url}
    if schedule is not None:
        entry["schedule"] = schedule
    if credentials:
        entry["credentials"] = credentials
    entry["options"] = options
    path = folder / "sources.yml"
    path.write_text(json.dumps({"sources": {source: entry}}, ensure_ascii=False, indent=2), encoding="utf-8")
    return path
