from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from edp.serve.docs_site import create_app, publish_dbt_docs
from edp.settings import Settings
from edp.storage.lake import open_lake


def test_serves_both_sites_from_the_lake(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    lake = open_lake(settings)
    lake.put_bytes("quality/docs/index.html", "<h1>数据质量</h1>".encode())
    target = tmp_path / "target"
    target.mkdir()
    (target / "index.html").write_text("<h1>dbt</h1>", encoding="utf-8")
    (target / "manifest.json").write_text("{}", encoding="utf-8")
    uri = publish_dbt_docs(settings, target, lake)
    assert uri.endswith("dbt/docs/index.html")
    client = TestClient(create_app(lake))
    assert "Data Docs" in client.get("/").text
    assert client.get("/quality/docs/index.html").text == "<h1>数据质量</h1>"
    assert client.get("/dbt/docs/manifest.json").json() == {}
    assert client.get("/dbt/docs/catalog.json").status_code == 404
    assert client.get("/landing/weather/x").status_code == 404  # only the two sites are served


def test_serve_binds_loopback_unless_given_a_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from edp.serve import docs_site

    bound: list[tuple[str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, log_level: bound.append((host, port)))
    settings = Settings(home=tmp_path)
    docs_site.serve(settings, 8090)
    docs_site.serve(settings, 8091, host="0.0.0.0")  # a container's docs server (infra/deploy)
    assert bound == [("127.0.0.1", 8090), ("0.0.0.0", 8091)]
