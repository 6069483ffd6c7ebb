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
    landing = client.get("/").text
    assert "数据质量文档 Data Docs" in landing
    assert client.get("/quality/docs/index.html").text == "<h1>数据质量</h1>"
    assert client.get("/dbt/docs/manifest.json").json() == {}
    assert client.get("/dbt/docs/catalog.json").status_code == 404
    assert client.get("/landing/weather/x").status_code == 404  # only the docs sites and reports are served


def test_serve_binds_loopback_unless_given_a_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from edp.serve import docs_site

    bound: list[tuple[str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, log_level: bound.append((host, port)))
    settings = Settings(home=tmp_path)
    docs_site.serve(settings, 8090)
    docs_site.serve(settings, 8091, host="0.0.0.0")  # a container's docs server (infra/deploy)
    assert bound == [("127.0.0.1", 8090), ("0.0.0.0", 8091)]


def test_landing_page_links_the_sites_and_every_report_newest_first(tmp_path: Path) -> None:
    import re

    lake = open_lake(Settings(home=tmp_path))
    lake.put_bytes("quality/docs/index.html", b"<h1>GX</h1>")
    lake.put_bytes("dbt/docs/index.html", b"<h1>dbt</h1>")
    for name in ("2026-07-01_2026-07-31", "2026-08-03_2026-08-09", "2026-08-10_2026-08-10", "2026-06-01_2026-06-30"):
        lake.put_bytes(f"quality/reports/{name}.html", f"<h1>{name}</h1>".encode())
        lake.put_bytes(f"quality/reports/{name}.json", b"{}")
    lake.put_bytes("quality/reports/2026-05-01_2026-05-31.html", b"<h1>html only</h1>")
    lake.put_bytes("quality/reports/notes.txt", b"not a report")
    client = TestClient(create_app(lake))

    page = client.get("/").text
    # Chinese and English; the Data Docs by their name, not as "the quality report".
    for label in ("海城市应急数据平台 文档", "documentation", "数据质量文档 Data Docs", "数据模型文档 dbt docs",
                  "数据质量审计报告", "Auditor's data quality reports, by period"):  # fmt: skip
        assert label in page, label
    assert "数据质量报告 Data Docs" not in page
    links = re.findall(r'href="([^"]+)"', page)
    reports = [h for h in links if h.startswith("/quality/reports/") and h.endswith(".html")]
    assert reports == [
        "/quality/reports/2026-08-10_2026-08-10.html",
        "/quality/reports/2026-08-03_2026-08-09.html",
        "/quality/reports/2026-07-01_2026-07-31.html",
        "/quality/reports/2026-06-01_2026-06-30.html",
        "/quality/reports/2026-05-01_2026-05-31.html",
    ]
    assert "日报" in page and "周报" in page and "月报" in page and "monthly" in page
    assert "/quality/reports/2026-05-01_2026-05-31.json" not in links  # no JSON, no link
    # Every link of the landing page is served.
    for href in links:
        assert client.get(href).status_code == 200, href
    assert client.get("/quality/reports/2026-08-10_2026-08-10.json").json() == {}


def test_landing_page_says_when_there_is_no_report(tmp_path: Path) -> None:
    client = TestClient(create_app(open_lake(Settings(home=tmp_path))))
    page = client.get("/").text
    assert "尚无报告" in page and "edp report quality" in page
