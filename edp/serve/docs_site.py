"""Documentation sites in the lake: GX Data Docs, dbt docs, the auditor's reports, and a server for them.

All three live in the lake (``quality/docs/``, ``dbt/docs/``, ``quality/reports/``)
so that any reader of the lake, file or S3, sees the same pages; ``edp docs
serve`` reads them through the Lake protocol and serves them (on loopback
unless given ``--host``) under the same paths, so the reports' relative links
to the Data Docs work there as in a file:// lake. The landing page (Chinese
and English) links the Data Docs, the dbt docs and every report, newest
period first.
"""

from __future__ import annotations

import html
import mimetypes
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from edp.settings import Settings
from edp.storage.lake import Lake, open_lake

QUALITY_PREFIX = "quality/docs"
DBT_PREFIX = "dbt/docs"
REPORTS_PREFIX = "quality/reports"  # edp.quality.report.LAKE_PREFIX
SERVED = (QUALITY_PREFIX, DBT_PREFIX, REPORTS_PREFIX)
# dbt's static site needs only these three files.
DBT_FILES = ("index.html", "manifest.json", "catalog.json")
_REPORT = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})\.html")


@dataclass(frozen=True)
class ReportLink:
    start: date
    end: date
    html: str  # lake key
    json: str | None

    @property
    def kind(self) -> tuple[str, str]:
        days = (self.end - self.start).days + 1
        if days == 1:
            return "日报", "daily"
        if days == 7:
            return "周报", "weekly"
        if 28 <= days <= 31 and self.start.day == 1:
            return "月报", "monthly"
        return "报告", f"{days} days"


def reports(lake: Lake) -> list[ReportLink]:
    """The auditor's reports in the lake, newest period first (by end, then start)."""
    keys = set(lake.list(REPORTS_PREFIX + "/"))
    found = []
    for key in keys:
        m = _REPORT.fullmatch(key.rsplit("/", 1)[-1])
        if m is None or not key.startswith(REPORTS_PREFIX + "/"):
            continue
        json_key = key[: -len(".html")] + ".json"
        found.append(
            ReportLink(date.fromisoformat(m[1]), date.fromisoformat(m[2]), key, json_key if json_key in keys else None)
        )
    return sorted(found, key=lambda r: (r.end, r.start), reverse=True)


_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>海城市应急数据平台 文档 · Haicheng EDP documentation</title>
<style>
body {{ font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; margin: 2em auto;
  max-width: 960px; color: #1f2933; padding: 0 1em; }}
h1 {{ font-size: 1.5em; }} h2 {{ font-size: 1.15em; border-bottom: 2px solid #cbd2d9; margin-top: 1.6em; }}
.en {{ color: #616e7c; font-weight: normal; }} .meta {{ color: #52606d; font-size: .9em; }}
ul {{ line-height: 1.8; }} table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #d9e2ec;
  padding: .3em .6em; text-align: left; }} th {{ background: #f0f4f8; }}
</style></head><body>
<h1>海城市应急数据平台 文档<br><span class="en">Haicheng Emergency Data Platform documentation</span></h1>
<h2>文档 <span class="en">Sites</span></h2>
<ul>
<li><a href="/{quality}/index.html">数据质量文档 Data Docs</a>
  <span class="meta">— Great Expectations 每次检查的验证结果与规则套件 · every check run's validation results and
  the expectation suites</span></li>
<li><a href="/{dbt}/index.html">数据模型文档 dbt docs</a>
  <span class="meta">— 模型、血缘与测试 · models, lineage, tests</span></li>
</ul>
<h2 id="reports">数据质量审计报告（按报告期） <span class="en">Auditor's data quality reports, by period</span></h2>
{reports}
<p class="meta">报告由 <code>edp report quality --from D --to D</code> 生成并发布到数据湖；
报告中的证据链接指向数据质量文档。
<span class="en">Reports are made by <code>edp report quality --from D --to D</code> and published to the lake; their
evidence links open the Data Docs.</span></p>
</body></html>"""


def landing_page(lake: Lake) -> str:
    found = reports(lake)
    if not found:
        listing = (
            '<p class="meta">尚无报告。<span class="en">No report yet: '
            "<code>edp report quality --from D --to D</code> makes one.</span></p>"
        )
    else:
        rows = []
        for r in found:
            zh, en = r.kind
            json_cell = f'<a href="/{html.escape(r.json)}">JSON</a>' if r.json else "—"
            rows.append(
                f'<tr><td><a href="/{html.escape(r.html)}">{r.start.isoformat()} 至 {r.end.isoformat()}</a></td>'
                f'<td>{zh} <span class="en">{en}</span></td><td>{json_cell}</td></tr>'
            )
        listing = (
            "<table><tr><th>报告期 Period</th><th>类型 Kind</th><th>数据 Data</th></tr>\n"
            + "\n".join(rows)
            + "\n</table>"
        )
    return _PAGE.format(quality=QUALITY_PREFIX, dbt=DBT_PREFIX, reports=listing)


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
        return HTMLResponse(landing_page(lake))

    async def page(request: Request) -> Response:
        key = request.path_params["key"]
        if not key.startswith(tuple(prefix + "/" for prefix in SERVED)):
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
