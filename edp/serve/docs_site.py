"""Documentation sites in the lake: GX Data Docs and dbt docs, and a server for both.

Both sites live in the lake (``quality/docs/`` and ``dbt/docs/``) so that any
reader of the lake, file or S3, sees the same pages; ``edp docs serve`` reads
them through the Lake protocol and serves them (on loopback unless given
``--host``).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from edp.settings import Settings
from edp.storage.lake import Lake, open_lake

QUALITY_PREFIX = "quality/docs"
DBT_PREFIX = "dbt/docs"
# dbt's static site needs only these three files.
DBT_FILES = ("index.html", "manifest.json", "catalog.json")

INDEX = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<title>海城市应急数据平台 文档 · EDP docs</title></head><body>
<h1>海城市应急数据平台 文档 · Haicheng EDP documentation</h1>
<ul>
<li><a href="/quality/docs/index.html">数据质量报告 Data Docs (Great Expectations)</a></li>
<li><a href="/dbt/docs/index.html">数据模型文档 dbt docs (models, lineage, tests)</a></li>
</ul></body></html>"""


def publish_dbt_docs(settings: Settings, target: Path, lake: Lake | None = None) -> str:
    lake = lake or open_lake(settings)
    for name in DBT_FILES:
        path = target / name
        if path.exists():
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            lake.put_bytes(f"{DBT_PREFIX}/{name}", path.read_bytes(), kind)
    return f"{lake.uri}/{DBT_PREFIX}/index.html"


def create_app(lake: Lake) -> Starlette:
    async def index(request: Request) -> Response:
        return HTMLResponse(INDEX)

    async def page(request: Request) -> Response:
        key = request.path_params["key"]
        if not key.startswith((QUALITY_PREFIX + "/", DBT_PREFIX + "/")):
            return Response("not found", status_code=404)
        if key.endswith("/"):
            key += "index.html"
        try:
            if not lake.exists(key):
                return Response("not found", status_code=404)
            data = lake.get_bytes(key)
        except ValueError:
            return Response("not found", status_code=404)
        return Response(data, media_type=mimetypes.guess_type(key)[0] or "application/octet-stream")

    return Starlette(routes=[Route("/", index), Route("/{key:path}", page)])


def serve(settings: Settings, port: int = 8090, host: str = "127.0.0.1") -> None:
    import uvicorn

    uvicorn.run(create_app(open_lake(settings)), host=host, port=port, log_level="warning")
