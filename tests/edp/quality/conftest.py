"""Fixtures for the quality layer: the weather tables with rows every rule accepts (tests/support/weather_tables.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from edp.settings import Settings
from tests.support.warehouse import execute
from tests.support.weather_tables import create_weather_tables


@pytest.fixture
def weather_tables(settings: Settings) -> Settings:
    """The checked weather tables, with rows every rule accepts."""
    create_weather_tables(settings)
    return settings


@pytest.fixture
def sql(settings: Settings) -> Callable[..., list[sa.Row[Any]]]:
    def run(statement: str, **params: Any) -> list[sa.Row[Any]]:
        return execute(settings, statement, **params)

    return run
