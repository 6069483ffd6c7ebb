"""Data Docs that render offline (离线数据质量文档): GX's CDN assets served from the site itself.

GX's page templates load Bootstrap, jQuery, Font Awesome, bootstrap-table,
the date picker, Vega and their styles from public CDNs, and the navbar logo
from GX's S3 bucket: on the bureau's intranet the pages come out unstyled and
every view calls out. The same files, at the versions GX's templates name, are
vendored in ``edp/quality/vendor/`` (licences and sha256 in its README); a
build copies them to ``static/vendor/`` of the site, which is published to the
lake with the pages, and rewrites each page's CDN references to relative
paths, so a page works from the docs server and from a file:// lake alike.

:func:`external_references` and :func:`missing_assets` are the checks: a page
or style sheet that still loads anything from another host, or names a local
asset that is not there. The build logs what they find (a GX upgrade that adds
a CDN file shows up there) and the tests assert there is nothing.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

VENDOR_DIR = Path(__file__).parent / "vendor"
SITE_VENDOR = "static/vendor"
SITE_IMAGES = "static/images"


@dataclass(frozen=True)
class Asset:
    url: str  # as GX's templates write it
    path: str  # under vendor/ here and static/vendor/ in the site
    package: str  # the npm package and version it was taken from
    source: str  # its path in that package
    licence: str


ASSETS: tuple[Asset, ...] = (
    Asset(
        "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css",
        "bootstrap-4.3.1/css/bootstrap.min.css",
        "bootstrap@4.3.1",
        "dist/css/bootstrap.min.css",
        "MIT",
    ),
    Asset(
        "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js",
        "bootstrap-4.3.1/js/bootstrap.min.js",
        "bootstrap@4.3.1",
        "dist/js/bootstrap.min.js",
        "MIT",
    ),
    Asset(
        "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",
        "bootstrap-dark-1.1.0/css/bootstrap-prefers-dark.css",
        "@forevolve/bootstrap-dark@1.1.0",
        "dist/css/bootstrap-prefers-dark.css",
        "MIT",
    ),
    Asset(
        "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css",
        "bootstrap-table-1.19.1/bootstrap-table.min.css",
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.css",
        "MIT",
    ),
    Asset(
        "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js",
        "bootstrap-table-1.19.1/bootstrap-table.min.js",
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.js",
        "MIT",
    ),
    Asset(
        "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
        "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.js",
        "bootstrap-table@1.19.1",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
        "MIT",
    ),
    Asset(
        "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
        "bootstrap-table-1.19.0/extensions/filter-control/bootstrap-table-filter-control.css",
        "bootstrap-table@1.19.0",
        "dist/extensions/filter-control/bootstrap-table-filter-control.css",
        "MIT",
    ),
    Asset(
        "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
        "bootstrap-table-1.19.0/extensions/filter-control/bootstrap-table-filter-control.min.css",
        "bootstrap-table@1.19.0",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
        "MIT",
    ),
    Asset(
        "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css",
        "bootstrap-datepicker-1.9.0/css/bootstrap-datepicker.min.css",
        "bootstrap-datepicker@1.9.0",
        "dist/css/bootstrap-datepicker.min.css",
        "Apache-2.0",
    ),
    Asset(
        "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js",
        "bootstrap-datepicker-1.9.0/js/bootstrap-datepicker.min.js",
        "bootstrap-datepicker@1.9.0",
        "dist/js/bootstrap-datepicker.min.js",
        "Apache-2.0",
    ),
    Asset(
        "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css",
        "fontawesome-free-6.6.0/css/all.min.css",
        "@fortawesome/fontawesome-free@6.6.0",
        "css/all.min.css (and webfonts/)",
        "CC-BY-4.0 (icons), SIL OFL 1.1 (fonts), MIT (code)",
    ),
    Asset(
        "https://code.jquery.com/jquery-3.7.1.min.js",
        "jquery-3.7.1/jquery.min.js",
        "jquery@3.7.1",
        "dist/jquery.min.js",
        "MIT",
    ),
    Asset(
        "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js",
        "popper.js-1.12.9/umd/popper.min.js",
        "popper.js@1.12.9",
        "dist/umd/popper.min.js",
        "MIT",
    ),
    Asset(
        "https://cdn.jsdelivr.net/npm/vega@5",
        "vega-5.33.1/vega.min.js",
        "vega@5.33.1",
        "build/vega.min.js",
        "BSD-3-Clause",
    ),
    Asset(
        "https://cdn.jsdelivr.net/npm/vega-lite@5",
        "vega-lite-5.23.0/vega-lite.min.js",
        "vega-lite@5.23.0",
        "build/vega-lite.min.js",
        "BSD-3-Clause",
    ),
    Asset(
        "https://cdn.jsdelivr.net/npm/vega-embed@6",
        "vega-embed-6.29.0/vega-embed.min.js",
        "vega-embed@6.29.0",
        "build/vega-embed.min.js",
        "BSD-3-Clause",
    ),
)

# GX's logo (navbar, and the dark theme's background image) comes from its S3 bucket with a
# tracking query string; GX ships the light logo in static/images, which stands in for both.
_GX_IMAGES = re.compile(
    r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+)(\?[^\"'\s)]*)?"
)
_LOGO = "logo-long.png"
# GX's favicon link climbs one folder too few on a validation page; every page's static/ is the site's.
_STATIC = re.compile(r"""(?<=["'(])(?:\./|(?:\.\./)+)static/(?=images/|styles/|fonts/)""")
_TAG = re.compile(r"<(script|link)\b[^>]*>", re.IGNORECASE)
_SRI = re.compile(r"\s+(integrity|crossorigin)=(\"[^\"]*\"|'[^']*'|\S+)", re.IGNORECASE)
_BY_URL = {a.url: a for a in ASSETS}
_URL_IN_TAG = re.compile(r"""(src|href)=(["'])(https?://[^"']+)\2""", re.IGNORECASE)


def vendor_files() -> Iterator[tuple[str, Path]]:
    """Every vendored file (assets, fonts, licences) by its path under vendor/."""
    for path in sorted(VENDOR_DIR.rglob("*")):
        if path.is_file() and path.name != "README.md":
            yield path.relative_to(VENDOR_DIR).as_posix(), path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def install_assets(site: Path) -> int:
    """Copy the vendored files to ``static/vendor/`` of the site; returns how many were (re)written."""
    written = 0
    for rel, path in vendor_files():
        target = site / SITE_VENDOR / rel
        if target.is_file() and target.stat().st_size == path.stat().st_size and sha256(target) == sha256(path):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        written += 1
    return written


def localise(site: Path, files: Iterable[Path]) -> int:
    """Rewrite CDN references of the given pages and style sheets of the site; returns how many changed."""
    changed = 0
    for path in files:
        if path.suffix not in (".html", ".css"):
            continue
        text = path.read_text(encoding="utf-8")
        to_root = posixpath.relpath(".", path.parent.relative_to(site).as_posix())
        new = text
        if path.suffix == ".html":
            new = _STATIC.sub(posixpath.join(to_root, "static/"), _localise_html(text, to_root))
        new = _GX_IMAGES.sub(functools.partial(_image, to_root=to_root, site=site), new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def _localise_html(text: str, to_root: str) -> str:
    def tag(match: re.Match[str]) -> str:
        element = match.group(0)
        found = _URL_IN_TAG.search(element)
        if found is None or found.group(3) not in _BY_URL:
            return element
        local = posixpath.join(to_root, SITE_VENDOR, _BY_URL[found.group(3)].path)
        element = element.replace(found.group(0), f"{found.group(1)}={found.group(2)}{local}{found.group(2)}")
        # Subresource integrity needs a CORS fetch, which a page opened from a file:// lake cannot make;
        # the vendored files are the very bytes those hashes name (tests/edp/quality/test_data_docs_offline.py).
        return _SRI.sub("", element)

    return _TAG.sub(tag, text)


def _image(match: re.Match[str], to_root: str, site: Path) -> str:
    name = match.group(1)
    chosen = name if (site / SITE_IMAGES / name).is_file() else _LOGO
    return posixpath.join(to_root, SITE_IMAGES, chosen)


# -- checks ------------------------------------------------------------------------------------------------------

_URL = re.compile(r"(?:https?:)?//[^\s\"'<>()\\]+", re.IGNORECASE)
_LOOPBACK = re.compile(r"^(?:https?:)?//(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])(?::\d+)?(?:/|$)", re.IGNORECASE)
# XML namespace names (inline SVG, data: URIs in style sheets) are identifiers, never fetched.
_NAMESPACES = ("http://www.w3.org/",)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_URL = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)|@import\s+(["'])([^"']+)\3""", re.IGNORECASE)
_A_TAG = re.compile(r"<a\b[^>]*>", re.IGNORECASE)


def external_references(text: str, kind: str) -> list[str]:
    """Every absolute reference to a host other than loopback in a page (``html``) or style sheet (``css``).

    A page's ``<a href>`` hyperlinks are allowed (they load nothing); so are CSS comments and XML
    namespace names. Anything else that names another host (a script, a style sheet, a font, an
    image, a URL in an inline script or in the text) is reported.
    """
    if kind == "css":
        text = _CSS_COMMENT.sub("", text)
    else:
        text = _A_TAG.sub("<a>", text)
    found = []
    for match in _URL.finditer(text):
        url = match.group(0)
        if url.startswith("//") and not re.match(r"//[\w-]+(\.[\w-]+)+", url):
            continue  # a JavaScript comment or a path with a double slash, not a host
        if _LOOPBACK.match(url) or url.startswith(_NAMESPACES):
            continue
        found.append(url)
    return found


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img") and values.get("src"):
            self.refs.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.refs.append(values["href"] or "")
        if values.get("style"):
            self.styles.append(values["style"] or "")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def local_references(text: str, kind: str) -> list[str]:
    """The relative paths a page (scripts, style sheets, images) or a style sheet (url(), @import) loads."""
    styles = [text]
    refs: list[str] = []
    if kind == "html":
        parser = _Refs()
        parser.feed(text)
        refs, styles = parser.refs, parser.styles
    for css in styles:
        for m in _CSS_URL.finditer(_CSS_COMMENT.sub("", css)):
            refs.append(m.group(2) or m.group(4))
    return [r.strip() for r in refs if not re.match(r"^\s*(?:[a-z][\w+.-]*:|//|#)", r, re.IGNORECASE)]


def missing_assets(site: Path, path: Path) -> list[str]:
    """The local assets a page or style sheet of the site loads that are not in the site."""
    text = path.read_text(encoding="utf-8")
    missing = []
    for ref in local_references(text, "css" if path.suffix == ".css" else "html"):
        target = (path.parent / ref.split("?", 1)[0].split("#", 1)[0]).resolve()
        if not target.is_relative_to(site.resolve()) or not target.is_file():
            missing.append(ref)
    return missing


def audit_site(site: Path, files: Iterable[Path] | None = None) -> dict[str, list[str]]:
    """Per page or style sheet with a problem: its external references and missing local assets."""
    problems: dict[str, list[str]] = {}
    candidates = files if files is not None else (p for p in site.rglob("*") if p.suffix in (".html", ".css"))
    for path in candidates:
        if path.suffix not in (".html", ".css") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        found = external_references(text, "css" if path.suffix == ".css" else "html") + missing_assets(site, path)
        if found:
            problems[path.relative_to(site).as_posix()] = found
    return problems
