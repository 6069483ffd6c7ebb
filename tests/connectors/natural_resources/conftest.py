"""Fixtures for the 自然资源局 WFS connector and stand-in tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def sources_file(tmp_path: Path) -> Callable[..., Path]:
    """A sources.yml with only natural_resources, its options given as keyword arguments."""

    def write(**options: object) -> Path:
        path = tmp_path / "sources.yml"
        path.write_text(
            "sources:\n  natural_resources:\n    url: sandbox\n    schedule: '0 3 * * *'\n"
            f"    options: {json.dumps(options)}\n",
            encoding="utf-8",
        )
        return path

    return write


@pytest.fixture
def wfs_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    def point(url: str) -> None:
        monkeypatch.setenv("EDP_SOURCE_NATURAL_RESOURCES_URL", url)

    yield point
