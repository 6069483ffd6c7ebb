"""GX Data Docs: built under ``$EDP_HOME/gx/data_docs``, published to the lake.

The local site keeps every run's validation page (its source, the validation
results under ``$EDP_HOME/gx/validations``, is history too). Publishing copies
the site to ``quality/docs/`` in the lake through the ``Lake`` protocol, so it
works for file:// and s3:// alike. A manifest of content hashes per lake
means a run copies only what changed (its own pages, the index, the suite
pages), not the 4 MB of static assets and every old page again.

GX's pages load their CSS and JavaScript from public CDNs; each build copies
the vendored copies into the site and points the pages it rendered at them
(``edp.quality.offline_assets``), so the Data Docs render offline.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import mimetypes
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from edp.quality import offline_assets
from edp.settings import Settings
from edp.storage.lake import Lake, open_lake

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext

log = logging.getLogger(__name__)

LAKE_PREFIX = "quality/docs"
SITE_NAME = "local_site"
INDEX = "index.html"
# The index page loads each listed validation result; bound that work as history grows.
INDEX_RESULTS_LIMIT = 200


def gx_home(settings: Settings) -> Path:
    return settings.home_subdir("gx")


def site_dir(settings: Settings) -> Path:
    return gx_home(settings) / "data_docs"


def site_config(settings: Settings) -> dict[str, Any]:
    """The ``data_docs_sites`` entry of the GX context."""
    return {
        SITE_NAME: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir(settings))},
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "validation_results_limit": INDEX_RESULTS_LIMIT,
            },
        }
    }


def build_and_publish(
    settings: Settings, context: AbstractDataContext, suites: list[str], results: list[Any]
) -> tuple[str, dict[Any, str]]:
    """Render this run's pages and the index, copy the site to the lake.

    Returns the lake URI of index.html and, per validation result identifier,
    the lake URI of its page.
    """
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    lake = open_lake(settings)
    # One writer at a time: two runs rendering the same index or updating
    # the same manifest would interleave.
    with _locked(gx_home(settings) / ".docs.lock"):
        identifiers = [ExpectationSuiteIdentifier(name=s) for s in suites] + list(results)
        started = time.time_ns()
        context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=identifiers)
        make_offline(site_dir(settings), since_ns=started)
        copied = publish_site(lake, site_dir(settings), gx_home(settings) / "published.json")
    log.info("data docs: %d file(s) copied to %s/%s", copied, lake.uri, LAKE_PREFIX)
    pages = {r: _lake_uri(lake, _page_of(settings, context, r)) for r in results}
    return _lake_uri(lake, INDEX), pages


def make_offline(site: Path, since_ns: int = 0) -> None:
    """Vendored CSS/JS into the site; the pages and styles written since ``since_ns`` pointed at them."""
    # GX rewrites this run's pages, the index and its static styles; older pages were made offline
    # when they were written (a second early, for file systems with coarse times), or, on a site
    # built before the assets were vendored, now.
    since = since_ns - 1_000_000_000 if (site / offline_assets.SITE_VENDOR).is_dir() else 0
    offline_assets.install_assets(site)
    written = [
        p
        for p in site.rglob("*")
        if p.suffix in (".html", ".css")
        and not p.is_relative_to(site / offline_assets.SITE_VENDOR)
        and p.stat().st_mtime_ns >= since
    ]
    offline_assets.localise(site, written)
    for page, problems in offline_assets.audit_site(site, written).items():
        log.warning("data docs page %s still loads from elsewhere or misses assets: %s", page, problems[:5])


def publish_site(lake: Lake, site: Path, manifest_path: Path) -> int:
    """Copy every file of ``site`` that the lake does not have yet in this version."""
    manifests = _read_manifest(manifest_path)
    published = manifests.get(lake.uri, {})
    if published and not lake.exists(f"{LAKE_PREFIX}/{INDEX}"):
        published = {}  # the lake was emptied or replaced: copy everything again
    copied = 0
    for rel, path in _site_files(site):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if published.get(rel) == digest:
            continue
        lake.put_bytes(f"{LAKE_PREFIX}/{rel}", data, _content_type(path))
        published[rel] = digest
        copied += 1
    manifests[lake.uri] = published
    _write_manifest(manifest_path, manifests)
    return copied


def _site_files(site: Path) -> Iterator[tuple[str, Path]]:
    files = sorted(p for p in site.rglob("*") if p.is_file() and not p.name.startswith("."))
    # The index goes last, so a reader never follows it to a page not yet copied.
    files.sort(key=lambda p: p == site / INDEX)
    for path in files:
        yield path.relative_to(site).as_posix(), path


def _content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def _page_of(settings: Settings, context: AbstractDataContext, identifier: Any) -> str:
    """A validation page's path relative to the site root."""
    urls = context.get_docs_sites_urls(resource_identifier=identifier, site_name=SITE_NAME)
    local = Path(unquote(urlsplit(urls[0]["site_url"]).path))
    return local.relative_to(site_dir(settings)).as_posix()


def _lake_uri(lake: Lake, rel: str) -> str:
    return f"{lake.uri}/{LAKE_PREFIX}/{rel}"


def _read_manifest(path: Path) -> dict[str, dict[str, str]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write_manifest(path: Path, manifests: dict[str, dict[str, str]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifests, indent=0, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
