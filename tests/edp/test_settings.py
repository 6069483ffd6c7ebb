from __future__ import annotations

import stat
from pathlib import Path

import pytest

from edp.secrets import generated_secret, source_credential
from edp.settings import Settings


def test_defaults_point_into_edp_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDP_HOME", str(tmp_path))
    monkeypatch.delenv("EDP_LAKE_URL", raising=False)
    s = Settings()
    assert s.home == tmp_path
    assert s.lake == (tmp_path / "lake").resolve().as_uri()
    assert s.warehouse_url is None


def test_source_url_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDP_HOME", str(tmp_path))
    monkeypatch.setenv("EDP_SOURCE_WEATHER_URL", "http://127.0.0.1:9/")
    assert Settings().source("weather").url == "http://127.0.0.1:9/"
    monkeypatch.delenv("EDP_SOURCE_WEATHER_URL")
    assert Settings().source("weather").url == "sandbox"


def test_unknown_source_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDP_HOME", str(tmp_path))
    with pytest.raises(KeyError, match="unknown source 'nope'"):
        Settings().source("nope")


def test_generated_secret_is_stable_and_owner_only(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    first = generated_secret(s, "x")
    assert generated_secret(s, "x") == first
    mode = stat.S_IMODE((tmp_path / "secrets" / "x").stat().st_mode)
    assert mode == 0o600


def test_configured_credential_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(home=tmp_path)
    monkeypatch.setenv("EDP_WEATHER_API_KEY", "from-env")
    assert source_credential(s, "weather", "api_key") == "from-env"
    monkeypatch.delenv("EDP_WEATHER_API_KEY")
    generated = source_credential(s, "weather", "api_key")
    assert generated != "from-env" and len(generated) >= 20
