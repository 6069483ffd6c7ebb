"""Data Docs render offline: no page or style sheet loads anything from another host, every asset is there."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from pathlib import Path

import great_expectations
import pytest
from starlette.testclient import TestClient

from edp.quality import offline_assets
from edp.quality.offline_assets import ASSETS, VENDOR_DIR, audit_site, external_references, localise, vendor_files
from edp.quality.runner import run_checks
from edp.serve.docs_site import create_app
from edp.settings import Settings
from edp.storage.lake import open_lake
from tests.support.weather_tables import MART, RAW, insert, observation, this_hour

GX_VIEW = Path(great_expectations.__file__).parent / "render" / "view"


def test_every_cdn_file_of_gx_templates_is_vendored() -> None:
    """A GX upgrade that loads a new CDN file fails here, not on the intranet."""
    named = set()
    for path in [*GX_VIEW.joinpath("templates").glob("*.j2"), *GX_VIEW.joinpath("static").rglob("*.css")]:
        text = path.read_text(encoding="utf-8")
        named |= {m.group(2) for m in re.finditer(r"""(src|href)=["'](https?://[^"'{]+)["']""", text)}
    loaded = {u for u in named if not u.startswith("https://greatexpectations.io")}  # hyperlinks, in <a>
    assert loaded, "GX's templates moved: nothing found to check"
    assert loaded <= {a.url for a in ASSETS}, loaded - {a.url for a in ASSETS}


def test_vendored_files_are_the_ones_the_readme_and_gx_name() -> None:
    readme = (VENDOR_DIR / "README.md").read_text(encoding="utf-8")
    files = dict(vendor_files())
    for rel, path in files.items():
        assert f"| `{rel}` | `{hashlib.sha256(path.read_bytes()).hexdigest()}` |" in readme, rel
    for asset in ASSETS:
        assert asset.path in files and asset.url in readme
        assert any(r.startswith(asset.path.split("/", 1)[0] + "/LICENSE") for r in files), asset.package
    # The scripts GX pins by subresource integrity are byte for byte what it pinned.
    imports = (GX_VIEW / "templates" / "js_script_imports.j2").read_text(encoding="utf-8")
    pinned = dict(re.findall(r'src="(https://[^"]+)" integrity="(sha384-[^"]+)"', imports))
    assert len(pinned) == 2
    for url, integrity in pinned.items():
        (asset,) = [a for a in ASSETS if a.url == url]
        digest = base64.b64encode(hashlib.sha384((VENDOR_DIR / asset.path).read_bytes()).digest()).decode()
        assert integrity == f"sha384-{digest}"


def test_pages_are_pointed_at_the_site_relative_to_their_depth(tmp_path: Path) -> None:
    page = tmp_path / "validations" / "suite" / "run" / "20260101T000000Z" / "abc.html"
    page.parent.mkdir(parents=True)
    (tmp_path / "static" / "images").mkdir(parents=True)
    (tmp_path / "static" / "images" / "logo-long.png").write_bytes(b"png")
    page.write_text(
        '<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>\n'
        '<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-x"'
        ' crossorigin="anonymous"></script>\n'
        '<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=1&dataContextId=2">'
        '\n<a href="https://greatexpectations.io">GX</a><link rel="icon" href="../../../static/images/favicon.ico">',
        encoding="utf-8",
    )
    assert external_references(page.read_text(encoding="utf-8"), "html") != []

    assert localise(tmp_path, [page]) == 1
    text = page.read_text(encoding="utf-8")
    assert 'href="../../../../static/vendor/bootstrap-4.3.1/css/bootstrap.min.css"' in text
    assert '<script src="../../../../static/vendor/bootstrap-4.3.1/js/bootstrap.min.js"></script>' in text
    assert '<img src="../../../../static/images/logo-long.png">' in text
    assert '<link rel="icon" href="../../../../static/images/favicon.ico">' in text  # GX climbs one too few
    assert external_references(text, "html") == []  # the <a> hyperlink stays, and loads nothing
    assert 'href="https://greatexpectations.io"' in text
    assert localise(tmp_path, [page]) == 0  # idempotent


def test_the_checks_catch_what_a_browser_would_fetch() -> None:
    assert external_references("<script>fetch('https://cdn.example.com/x.js')</script>", "html")
    assert external_references('<div style="background:url(//cdn.example.com/a.png)">', "html")
    assert external_references("a{background:url(https://cdn.example.com/a.png)}", "css")
    assert not external_references("/* (https://getbootstrap.com/) */ a{b:url(http://127.0.0.1:8090/x.png)}", "css")
    assert not external_references("a{b:url(\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>\")}", "css")


@pytest.mark.integration
def test_built_data_docs_load_everything_from_the_site(weather_tables: Settings) -> None:
    # A warning and a blocking failure, so the pages carry failed results as well as passed ones.
    insert(weather_tables, RAW, [observation("54471", 2, "batch-3", precip_1h_mm=-5.0, updated_at=this_hour())])
    run = run_checks(weather_tables, [RAW, MART])
    assert not run.success

    site = weather_tables.home / "lake" / "quality" / "docs"
    pages = list(site.rglob("*.html"))
    sheets = list(site.rglob("*.css"))
    assert len(pages) >= 4 and len(sheets) >= 9  # index, 2 suites, 2 validations; GX's and the vendored CSS
    assert audit_site(site) == {}
    validation = next(p for p in pages if "/validations/" in p.as_posix())
    text = validation.read_text(encoding="utf-8")
    assert "../../../../static/vendor/jquery-3.7.1/jquery.min.js" in text
    assert "cdn" not in text.lower() and "amazonaws" not in text

    # Served by the docs server: the page and the assets it names, fonts included.
    client = TestClient(create_app(open_lake(weather_tables)))
    rel = validation.relative_to(site).as_posix()
    assert client.get(f"/quality/docs/{rel}").status_code == 200
    for asset in ("fontawesome-free-6.6.0/webfonts/fa-solid-900.woff2", "bootstrap-4.3.1/css/bootstrap.min.css"):
        response = client.get(f"/quality/docs/{offline_assets.SITE_VENDOR}/{asset}")
        assert response.status_code == 200 and response.content == (VENDOR_DIR / asset).read_bytes()


def test_a_site_built_before_the_assets_were_vendored_is_made_offline_whole(tmp_path: Path) -> None:
    from edp.quality.data_docs import make_offline

    old = tmp_path / "validations" / "s" / "r" / "t" / "old.html"
    old.parent.mkdir(parents=True)
    old.write_text('<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>', encoding="utf-8")
    make_offline(tmp_path, since_ns=time.time_ns() + 10**12)  # nothing written "since": still rewritten

    assert (
        old.read_text(encoding="utf-8")
        == '<script src="../../../../static/vendor/jquery-3.7.1/jquery.min.js"></script>'
    )
    assert audit_site(tmp_path) == {}
    # Once the site has its assets, only what a build wrote is read again.
    old.write_text('<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>', encoding="utf-8")
    make_offline(tmp_path, since_ns=time.time_ns() + 10**12)
    assert "code.jquery.com" in old.read_text(encoding="utf-8")
