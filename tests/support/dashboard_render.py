"""Dashboards checked as a person sees them: rendered in headless Chromium, every chart drawn with data.

``assert_dashboards_render`` is for any test with a provisioned Superset (the Superset and demo tests);
``count_pixels`` reads a chart's box of a screenshot (the PNG decoded here: no imaging library in the venv).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Collection
from pathlib import Path

from edp.serve.superset.screenshots import DashboardRender, render_dashboards

# A loaded 2-core machine: Superset's first queries and Chromium's start are slow.
RENDER_TIMEOUT_S = 300.0
MIN_PNG_BYTES = 20_000
# A chart's title alone is some hundreds of dark pixels.
MIN_INK_PIXELS = 200

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunks(data: bytes) -> tuple[bytes, bytes]:
    """The IHDR and the concatenated IDAT payloads of a PNG."""
    header, idat, pos = b"", b"", len(_PNG_SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return header, idat


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG; fails unless it is one whose pixels vary (not a blank page)."""
    data = path.read_bytes()
    assert data.startswith(_PNG_SIGNATURE), f"{path} is not a PNG"
    assert len(data) >= MIN_PNG_BYTES, f"{path}: {len(data)} bytes, too small for a dashboard"
    header, idat = _png_chunks(data)
    width, height = struct.unpack(">II", header[:8])
    assert len(set(zlib.decompress(idat))) > 32, f"{path}: nearly uniform pixels, a blank page?"
    return int(width), int(height)


def png_rgb_rows(path: Path) -> list[bytes]:
    """The rows of an 8-bit RGB or RGBA PNG (what Chromium writes), as RGB bytes."""
    header, idat = _png_chunks(path.read_bytes())
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6) and header[12] == 0, f"{path}: not an 8-bit RGB(A) PNG"
    bpp = 4 if color == 6 else 3
    stride = width * bpp
    raw = zlib.decompress(idat)
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        prev = line
        rows.append(bytes(line) if bpp == 3 else bytes(v for i, v in enumerate(line) if i % 4 != 3))
    return rows


def count_pixels(path: Path, box: tuple[int, int, int, int], match: Callable[[int, int, int], bool]) -> int:
    """Pixels inside ``box`` (x, y, width, height) of a PNG whose (r, g, b) ``match``."""
    x0, y0, w, h = box
    count = 0
    for row in png_rgb_rows(path)[y0 : y0 + h]:
        for x in range(x0, min(x0 + w, len(row) // 3)):
            if match(row[3 * x], row[3 * x + 1], row[3 * x + 2]):
                count += 1
    return count


def _ink(rows: list[bytes], box: tuple[int, int, int, int]) -> int:
    """Dark pixels (text, lines, marks) inside ``box``: a blank card has none."""
    x0, y0, w, h = box
    count = 0
    for row in rows[y0 : y0 + h]:
        for x in range(x0, min(x0 + w, len(row) // 3)):
            if row[3 * x] < 140 and row[3 * x + 1] < 140 and row[3 * x + 2] < 140:
                count += 1
    return count


def reddish(r: int, g: int, b: int) -> bool:
    return r > 150 and g < 120 and b < 120 and r - max(g, b) > 80


def assert_dashboards_render(
    url: str, username: str, password: str, out_dir: Path, *, may_be_empty: Collection[str] = ()
) -> list[DashboardRender]:
    """Render every dashboard ``username`` sees; assert each has charts, all ``ok``, and a real screenshot.

    ``may_be_empty``: titles of charts whose "no results" is the truth of the data at hand (on the demo's
    data, e.g., no record is in doubt or quarantined); they may show the empty state, never an error.
    """
    renders = render_dashboards(url, username, password, out_dir, timeout_s=RENDER_TIMEOUT_S)
    assert renders, f"{username} sees no dashboard at {url}"
    for render in renders:
        bad = [
            f"{c.title}: {c.state} {' '.join(c.message.split())}"
            for c in render.charts
            if c.state != "ok" and not (c.state == "empty" and c.title in may_be_empty)
        ]
        assert render.charts, f"dashboard {render.title!r} shows no chart"
        assert not bad, f"dashboard {render.title!r}: " + "; ".join(bad)
        assert render.screenshot.parent == out_dir
        width, height = png_size(render.screenshot)
        assert width >= 1200 and height >= 600, f"{render.screenshot}: {width}x{height}"
        rows = png_rgb_rows(render.screenshot)
        for chart in render.charts:
            x, y, w, h = chart.box
            assert w > 0 and h > 0 and x + w <= width and y + h <= height, f"{chart.title}: {chart.box} outside the PNG"
            # Drawn in the screenshot, not only in the DOM: a grid caught while Superset re-laid it out
            # showed as an empty grey page with every chart "ok".
            assert _ink(rows, chart.box) >= MIN_INK_PIXELS, f"{render.screenshot}: {chart.title} is not drawn"
    return renders
