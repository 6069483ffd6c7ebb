"""Dashboards checked as a person sees them: rendered in headless Chromium, every chart drawn with data.

``assert_dashboards_render`` is for any test with a provisioned Superset (the Superset and demo tests).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from edp.serve.superset.screenshots import DashboardRender, render_dashboards

# A loaded 2-core machine: Superset's first queries and Chromium's start are slow.
RENDER_TIMEOUT_S = 300.0
MIN_PNG_BYTES = 20_000

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG; fails unless it is one whose pixels vary (not a blank page)."""
    data = path.read_bytes()
    assert data.startswith(_PNG_SIGNATURE), f"{path} is not a PNG"
    assert len(data) >= MIN_PNG_BYTES, f"{path}: {len(data)} bytes, too small for a dashboard"
    width, height = struct.unpack(">II", data[16:24])
    pixels, pos = b"", len(_PNG_SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            pixels += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(pixels)
    assert len(set(raw)) > 32, f"{path}: nearly uniform pixels, a blank page?"
    return int(width), int(height)


def assert_dashboards_render(url: str, username: str, password: str, out_dir: Path) -> list[DashboardRender]:
    """Render every dashboard ``username`` sees; assert each has charts, all ``ok``, and a real screenshot."""
    renders = render_dashboards(url, username, password, out_dir, timeout_s=RENDER_TIMEOUT_S)
    assert renders, f"{username} sees no dashboard at {url}"
    for render in renders:
        bad = [f"{c.title}: {c.state} {' '.join(c.message.split())}" for c in render.charts if c.state != "ok"]
        assert render.charts, f"dashboard {render.title!r} shows no chart"
        assert not bad, f"dashboard {render.title!r}: " + "; ".join(bad)
        assert render.screenshot.parent == out_dir
        width, height = png_size(render.screenshot)
        assert width >= 1200 and height >= 600, f"{render.screenshot}: {width}x{height}"
    return renders
