"""Every dashboard rendered in headless Chromium, the way a person sees it: charts ok, in error, or empty.

The REST API can say a chart's saved query runs; only the browser shows what the
dashboard itself does (it builds its own queries from the charts' params, and
renders them with its own JavaScript). ``render_dashboards`` logs in through
Superset's login form, opens each dashboard, waits until no chart is loading,
reads every chart holder's state from the DOM and saves a full-page PNG.

The DOM markers are Superset 6.1's, read from its live dashboard:

- a chart: ``[data-test="dashboard-component-chart-holder"]``, its title in the
  ``data-test-chart-name`` attribute of ``[data-test="chart-grid-component"]``;
- loading: ``[data-test="loading-indicator"]`` (the spinner, also before the query runs);
- error: an Ant Design error alert (``.ant-alert-error``, "Data error" and the database's
  message) in place of the chart; a chart whose JavaScript throws while drawing goes the
  same way (Superset's ``chartRenderingFailed``; read in its code, not exercised by the test);
- empty: the empty state (``.ant-empty``, "此查询没有数据返回" / "No results were returned
  for this query") inside ``[data-test="chart-container"]``;
- rendered: ``[data-test="slice-container"]`` holding the visualisation.

Superset virtualises dashboards (a chart out of view is not drawn) except for a browser
driven by WebDriver (``navigator.webdriver``, as for its own reports); should that change,
the window is made as tall as the dashboard anyway and every chart scrolled into view.
JavaScript errors the page throws are kept per dashboard (``console_errors``).

Chromium and chromedriver are the system's (``infra/browser/install.sh``); the
chromedriver path is given explicitly so Selenium never looks for a driver of its own.
"""

from __future__ import annotations

import base64
import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from edp.secrets import generated_secret
from edp.serve.superset.client import SupersetClient, admin_client, rison
from edp.serve.superset.errors import SupersetError
from edp.serve.superset.metadata import ADMIN_SECRET, ADMIN_USER
from edp.serve.superset.paths import base_url
from edp.serve.superset.server import _healthy
from edp.settings import Settings

log = logging.getLogger(__name__)

ChartState = Literal["ok", "error", "empty"]

WINDOW_WIDTH = 1600
MIN_WINDOW_HEIGHT = 1200
# Chromium's headless window is at most 8192 pixels tall; the screenshot covers the whole page anyway.
MAX_WINDOW_HEIGHT = 8192
PAGE_MARGIN = 24
POLL_S = 0.5
# A state must hold this long before it counts: a chart's query answers before its drawing ends.
STABLE_S = 1.5
# One try of the login form: a loaded Superset answers the sign-in in seconds.
LOGIN_ATTEMPT_S = 30.0
# A dashboard showing no chart holder this long after its header has none.
NO_CHARTS_S = 10.0

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in containers and CI
    "--disable-dev-shm-usage",
    "--lang=zh-CN",
    # WebGL in software (deck.gl maps): SwiftShader through ANGLE.
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
    "--ignore-gpu-blocklist",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

# Each chart holder's state, read in the page. "loading" and "pending" (nothing drawn yet) are not final.
_STATES_JS = """
const holders = Array.from(document.querySelectorAll('[data-test="dashboard-component-chart-holder"]'));
// Markdown and other layout components use the same holder, without a chart id.
return holders.filter(h => /(^| )dashboard-chart-id-/.test(h.className)).map(h => {
  const grid = h.querySelector('[data-test="chart-grid-component"]');
  const header = h.querySelector('[data-test="slice-header"] [data-test="editable-title"]');
  const title = (grid && grid.getAttribute('data-test-chart-name')) || (header && header.innerText) || '';
  const vizType = (grid && grid.getAttribute('data-test-viz-type')) || '';
  const text = el => (el.innerText || el.textContent || '').trim();
  const r = h.getBoundingClientRect();
  const box = [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height].map(Math.round);
  const state = (() => {
    if (h.querySelector('[data-test="loading-indicator"]')) return ['loading', ''];
    const alert = h.querySelector('.ant-alert-error');
    if (alert) return ['error', text(alert)];
    const container = h.querySelector('[data-test="chart-container"]');
    if (container && container.querySelector('.ant-empty, [data-test="empty-state"]')) {
      return ['empty', text(container)];
    }
    const slice = h.querySelector('[data-test="slice-container"]');
    const drawn = slice && slice.getBoundingClientRect().height > 0
      && (slice.querySelector('canvas, svg, table') || text(slice) !== '');
    return [drawn ? 'ok' : 'pending', ''];
  })();
  return [title, vizType, state[0], state[1], box];
});
"""


@dataclass(frozen=True)
class ChartRender:
    """One chart as the dashboard showed it; ``message`` is the error or empty-state text."""

    title: str
    state: ChartState
    message: str = ""
    viz_type: str = ""
    # Where the chart is in the screenshot: x, y, width, height in pixels.
    box: tuple[int, int, int, int] = (0, 0, 0, 0)


@dataclass(frozen=True)
class DashboardRender:
    """One dashboard: its charts' states, the screenshot, JavaScript errors the page logged."""

    title: str
    slug: str
    screenshot: Path
    charts: list[ChartRender]
    console_errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[ChartState, int]:
        states: tuple[ChartState, ...] = ("ok", "error", "empty")
        return {s: sum(1 for c in self.charts if c.state == s) for s in states}

    @property
    def all_ok(self) -> bool:
        return all(c.state == "ok" for c in self.charts)


def chromium_paths() -> tuple[str, str]:
    """The system's Chromium and chromedriver, or an error saying how to install them."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        raise SupersetError(
            "headless Chromium is needed to render dashboards: chromium and chromedriver must be on PATH "
            "(infra/browser/install.sh, which make install runs)"
        )
    return chromium, driver


@contextmanager
def chromium(width: int = WINDOW_WIDTH, height: int = MIN_WINDOW_HEIGHT) -> Iterator[webdriver.Chrome]:
    """Headless Chromium driven by the system's chromedriver (never one Selenium would fetch)."""
    binary, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def list_dashboards(url: str, username: str, password: str) -> list[dict[str, Any]]:
    """Every dashboard the user sees: ``[{"id", "dashboard_title", "slug"}]``, by id."""
    found: list[dict[str, Any]] = []
    with SupersetClient(url, username, password) as client:
        client.login()
        page = 0
        while True:
            # Superset's default order: asked to order by dashboard_title, 6.1 once left one of seven out.
            query = {"columns": ["id", "dashboard_title", "slug"], "page": page, "page_size": 100}
            answer = client.get("/api/v1/dashboard/", params={"q": rison(query)})
            seen = {d["id"] for d in found}
            found.extend(d for d in answer["result"] if d["id"] not in seen)
            if not answer["result"] or len(found) >= int(answer["count"]):
                if len(found) < int(answer["count"]):
                    log.warning("Superset counts %s dashboards but listed %d", answer["count"], len(found))
                return sorted(found, key=lambda d: int(d["id"]))
            page += 1


def login(driver: webdriver.Chrome, url: str, username: str, password: str, timeout_s: float) -> None:
    """Sign in through Superset's login form, as a person does.

    The form is React's: typed into before its page finished starting, it can lose the values
    (seen on a loaded machine), so the values are checked before submitting and the whole
    form is tried again while time is left.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        driver.get(f"{url}/login/")
        left = max(1.0, deadline - time.monotonic())
        _wait(driver, left, lambda: driver.find_elements(By.CSS_SELECTOR, '[data-test="login-button"]'), "login form")
        user_input = driver.find_element(By.CSS_SELECTOR, '[data-test="username-input"]')
        password_input = driver.find_element(By.CSS_SELECTOR, '[data-test="password-input"]')
        user_input.clear()
        user_input.send_keys(username)
        password_input.clear()
        password_input.send_keys(password)
        filled = user_input.get_attribute("value") == username and password_input.get_attribute("value") == password
        if filled:
            driver.find_element(By.CSS_SELECTOR, '[data-test="login-button"]').click()
            try:
                _wait(driver, min(LOGIN_ATTEMPT_S, left), lambda: "/login" not in driver.current_url, "login")
                return
            except SupersetError:
                pass
        if time.monotonic() > deadline:
            raise SupersetError(f"Superset's login form at {url}/login/ did not sign {username!r} in")


def _wait(driver: webdriver.Chrome, timeout_s: float, ready: Any, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = ready()
        except WebDriverException:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise SupersetError(f"{what}: not ready after {timeout_s:.0f}s (at {driver.current_url})")
        time.sleep(POLL_S)


def _fit_window(driver: webdriver.Chrome) -> None:
    """Make the window as tall as the dashboard (up to Chromium's limit), so every chart is in view.

    The dashboard's grid measures it: the document itself grows with the window (a filter bar of 100vh).
    """
    bottom, viewport = driver.execute_script(
        "const g = document.querySelector('.grid-container, .dashboard-content');"
        "return [g ? g.getBoundingClientRect().bottom + window.scrollY : 0, window.innerHeight]"
    )
    overflow = int(bottom) + PAGE_MARGIN - int(viewport)
    if overflow <= 0:
        return
    # The window's height includes Chromium's frame: grow it by the overflow.
    target = min(MAX_WINDOW_HEIGHT, driver.get_window_size()["height"] + overflow)
    if driver.get_window_size()["height"] != target:
        driver.set_window_size(WINDOW_WIDTH, target)


def _settled_states(driver: webdriver.Chrome, timeout_s: float, *, scroll: bool = True) -> list[list[Any]]:
    """The charts' states once none is loading or undrawn and they held for STABLE_S; at the
    deadline, the charts still unfinished are errors."""
    deadline = time.monotonic() + timeout_s
    last: list[list[Any]] | None = None
    since = time.monotonic()
    while True:
        _fit_window(driver)
        holders = driver.find_elements(By.CSS_SELECTOR, '[data-test="dashboard-component-chart-holder"]')
        for holder in holders if scroll else ():
            # Virtualised: a chart out of view is not rendered until scrolled to.
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", holder)
        states: list[list[Any]] = driver.execute_script(_STATES_JS)
        final = all(s[2] not in ("loading", "pending") for s in states)
        if states != last:
            last, since = states, time.monotonic()
        elif final and time.monotonic() - since >= (STABLE_S if states else NO_CHARTS_S):
            return states
        if time.monotonic() > deadline:
            if not states:
                return []
            unfinished = ("loading", "pending")
            late = f"after {timeout_s:.0f}s"
            return [s if s[2] not in unfinished else [*s[:2], "error", f"still {s[2]} {late}", s[4]] for s in states]
        time.sleep(POLL_S)


def _page_png(driver: webdriver.Chrome) -> bytes:
    """The window as PNG when the dashboard fits in it (it was fitted to it), else the whole page.

    DevTools' capture beyond the viewport resizes the page for the shot, and Superset re-lays the grid
    out on a resize: only a dashboard taller than the tallest window (MAX_WINDOW_HEIGHT) needs it.
    """
    bottom, viewport = driver.execute_script(
        "const g = document.querySelector('.grid-container, .dashboard-content');"
        "return [g ? g.getBoundingClientRect().bottom + window.scrollY : 0, window.innerHeight]"
    )
    if int(bottom) <= int(viewport):
        return bytes(driver.get_screenshot_as_png())
    return _full_page_png(driver)


def _full_page_png(driver: webdriver.Chrome) -> bytes:
    """The whole page as PNG, also below the window (DevTools' captureBeyondViewport)."""
    bottom = driver.execute_script(
        "const g = document.querySelector('.grid-container, .dashboard-content');"
        "return Math.max(window.innerHeight, g ? g.getBoundingClientRect().bottom + window.scrollY : 0)"
    )
    width = driver.execute_script("return document.documentElement.clientWidth")
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": int(width), "height": int(bottom) + PAGE_MARGIN, "scale": 1},
        },
    )
    return base64.b64decode(shot["data"])


def _console_errors(driver: webdriver.Chrome) -> list[str]:
    """JavaScript errors the page logged (network failures, e.g. offline telemetry, left out)."""
    try:
        entries = driver.get_log("browser")
    except WebDriverException:
        return []
    return [str(e["message"]) for e in entries if e.get("level") == "SEVERE" and e.get("source") == "javascript"]


def render_dashboard(
    driver: webdriver.Chrome, url: str, dashboard: dict[str, Any], out_dir: Path, timeout_s: float
) -> DashboardRender:
    """Open one dashboard (logged in), wait for its charts, read their states, save the screenshot."""
    key = dashboard.get("slug") or str(dashboard["id"])
    name = dashboard.get("slug") or f"dashboard-{dashboard['id']}"
    _console_errors(driver)  # drop what earlier pages logged
    # standalone=1: without Superset's navigation bar, with the dashboard's title and filters.
    driver.get(f"{url}/superset/dashboard/{key}/?standalone=1")
    started = time.monotonic()
    _wait(
        driver,
        timeout_s,
        lambda: (
            driver.find_elements(By.CSS_SELECTOR, '[data-test="dashboard-header-container"]')
            or driver.find_elements(By.CSS_SELECTOR, '[data-test="dashboard-component-chart-holder"]')
        ),
        f"dashboard {dashboard['dashboard_title']!r}",
    )
    remaining = max(1.0, timeout_s - (time.monotonic() - started))
    states = _settled_states(driver, remaining)
    # Back to the top, and settled again: scrolling (and any resize) makes Superset lay the grid out anew,
    # and a screenshot taken then showed an empty grid while the charts remounted.
    driver.execute_script("window.scrollTo(0, 0);")
    states = _settled_states(driver, max(30.0, timeout_s - (time.monotonic() - started)), scroll=False)
    screenshot = out_dir / f"{name}.png"
    screenshot.write_bytes(_page_png(driver))
    charts = [
        ChartRender(
            title=s[0], state=_state(s[2]), message=s[3], viz_type=s[1], box=(s[4][0], s[4][1], s[4][2], s[4][3])
        )
        for s in states
    ]
    render = DashboardRender(
        title=str(dashboard["dashboard_title"]),
        slug=name,
        screenshot=screenshot,
        charts=charts,
        console_errors=_console_errors(driver),
    )
    log.info("dashboard %s rendered: %s -> %s", render.title, render.counts(), screenshot)
    return render


def _state(value: str) -> ChartState:
    if value == "ok":
        return "ok"
    if value == "empty":
        return "empty"
    return "error"


def render_dashboards(
    url: str, username: str, password: str, out_dir: Path, *, timeout_s: float = 240
) -> list[DashboardRender]:
    """Render every dashboard ``username`` sees in headless Chromium; one PNG each in ``out_dir``.

    ``timeout_s`` is per dashboard (and for the login): a chart still loading then is an error.
    """
    url = url.rstrip("/")
    out_dir.mkdir(parents=True, exist_ok=True)
    dashboards = list_dashboards(url, username, password)
    if not dashboards:
        return []
    with chromium() as driver:
        driver.set_page_load_timeout(timeout_s)
        login(driver, url, username, password, timeout_s)
        return [render_dashboard(driver, url, d, out_dir, timeout_s) for d in dashboards]


def superset_url(settings: Settings) -> str:
    """The Superset ``provision`` uses: ``EDP_SUPERSET_URL``, or the local server's."""
    return settings.superset_url.rstrip("/") if settings.superset_url else base_url(settings)


def render_as_admin(
    settings: Settings, out_dir: Path | None = None, *, timeout_s: float = 240
) -> list[DashboardRender]:
    """Every dashboard of this platform's Superset, as the admin; screenshots in $EDP_HOME/screenshots by default."""
    url = superset_url(settings)
    if not _healthy(url):
        raise SupersetError(f"Superset at {url} does not answer; start it with `edp superset provision`")
    # The admin client checks the password (and repairs a drifted one on the local Superset).
    with admin_client(settings, url):
        pass
    out = out_dir if out_dir is not None else settings.home_subdir("screenshots")
    return render_dashboards(url, ADMIN_USER, generated_secret(settings, ADMIN_SECRET), out, timeout_s=timeout_s)


def rows_behind_empty_charts(settings: Settings, renders: list[DashboardRender]) -> dict[str, int]:
    """``{chart title: rows}`` for each chart drawn empty, from its saved query through the API.

    An empty chart whose query has no rows tells the truth (nothing is in doubt today); one whose
    query returns rows is broken (a filter, a column, a viz that cannot draw them).
    """
    from edp.serve.superset.charts import chart_data

    url = superset_url(settings)
    empty = sorted({c.title for r in renders for c in r.charts if c.state == "empty"})
    return {title: len(chart_data(settings, url, title)) for title in empty}
