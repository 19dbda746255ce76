"""The dashboard in a real browser: every page opens in headless Debian Chromium without an error.

Starts `streamlit run dashboard/app.py` on the synced sandbox world (person-level views
on, so every section draws), opens each page, waits for the page's own title and its
charts (Streamlit draws after the load event), and saves a screenshot of each page in
test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import END, START

pytestmark = pytest.mark.browser

PROBE = re.compile(r"/[a-z]+/_stcore/(health|host-config)$")
NOT_FOUND = "Failed to load resource: the server responded with a status of 404"

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# url path, the page's title, charts it draws at least
PAGES = [
    ("", "Overview", 2),
    ("allocation", "Allocation", 2),
    ("turnaround", "Turnaround", 3),
    ("support", "Support", 2),
    ("flood", "Flood & drought", 2),
    ("planning", "Planning", 2),
    ("cluster", "Cluster", 2),
    ("reorg", "Reorg impact", 1),
    ("whatif", "What if", 0),
    ("health", "Data health", 0),
]
# The Reports page belongs to the weekly report; open it too when it is there (its title is its own).
if (ROOT / "dashboard" / "views" / "reports.py").exists():
    PAGES.append(("reports", None, 0))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package on CI")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return CHROMIUM


@contextmanager
def streamlit_server(config: Path) -> Iterator[str]:
    """The dashboard served from this checkout for the org file `config`; its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
            "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false", "--server.fileWatcherType=none",
        ],
        cwd=ROOT,
        env={**os.environ, "TEAMTIDE_CONFIG": str(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"streamlit did not start:\n{output}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if process.stdout:
            process.stdout.close()


@pytest.fixture(scope="module")
def server(people_config: Path) -> Iterator[str]:
    with streamlit_server(people_config) as url:
        yield url


def test_every_page_opens_in_chromium_without_an_error(chromium: Path, server: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    query = f"?from={START.isoformat()}&to={END.isoformat()}"
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        console: list[str] = []
        probes: list[str] = []

        def on_response(response: Any) -> None:
            if response.status < 400:
                return
            # On a deep link Streamlit first looks for its server under the page's path (in
            # case it is served below a prefix), gets a 404, and falls back to the root.
            if PROBE.search(response.url) and response.status == 404:
                probes.append(response.url)
            else:
                console.append(f"HTTP {response.status} {response.url}")

        page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console.append(f"page error: {e}"))
        page.on("response", on_response)
        for path, title, charts in PAGES:
            title = title or path
            console.clear()
            probes.clear()
            open_page(page, f"{server}/{path}{query}", title, path, charts)
            shoot(page, f"page-{path or 'overview'}.png", 1600)
            errors = page.locator('[data-testid="stException"]').count()
            alerts = page.locator('[data-testid="stAlertContentError"]').count()
            if errors or alerts:
                problems.append(f"{title}: {errors} exceptions, {alerts} error alerts")
            # each probe's 404 also shows as one console error; those, and only those, are fine
            unexplained = [t for t in console if not t.startswith(NOT_FOUND)]
            unexplained += [t for t in console if t.startswith(NOT_FOUND)][len(probes) :]
            problems += [f"{title}: console: {text}" for text in unexplained]
        browser.close()
    assert not problems, "\n".join(problems)


def open_page(page: Any, url: str, title: str, path: str, charts: int) -> None:
    """Open a page and wait until its title, its charts and Streamlit's reruns are done."""
    page.goto(url, wait_until="load")
    heading = (
        page.locator("h1") if title == path else page.get_by_role("heading", name=title, exact=True)
    )
    heading.first.wait_for(timeout=60_000)
    if charts:
        page.wait_for_function(
            "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
            arg=charts,
            timeout=60_000,
        )
    # Streamlit reruns while its status widget shows; wait until it is idle.
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(800)  # plotly's transitions settle


def shoot(page: Any, name: str, width: int) -> None:
    """A screenshot of the whole page in test-artifacts/ (the app scrolls inside its main
    block, so the window grows to show all of it, then shrinks back)."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(height, 1000), 12000)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    page.set_viewport_size({"width": width, "height": 1000})


# A metric whose text is wider than its box is drawn cut, with an ellipsis: on the metric's
# own element or on one inside it (Streamlit cuts a label's markdown container).
TRUNCATED = """() => [...document.querySelectorAll(
    ['stMetricValue', 'stMetricLabel', 'stMetricDelta']
        .map(id => `[data-testid="${id}"], [data-testid="${id}"] *`).join(', ')
)].filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""


@pytest.mark.parametrize("width", [1366, 1920])
def test_no_metric_is_cut_short_at_a_laptop_or_a_desktop_width(
    chromium: Path, server: str, width: int
) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    query = f"?from={START.isoformat()}&to={END.isoformat()}"
    cut: dict[str, list[str]] = {}
    seen = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": 1000})
        for path, title, charts in PAGES:
            open_page(page, f"{server}/{path}{query}", title or path, path, charts)
            shoot(page, f"page-{path or 'overview'}-{width}.png", width)
            seen += page.locator('[data-testid="stMetricValue"]').count()
            found = page.evaluate(TRUNCATED)
            if found:
                cut[path or "overview"] = found
        browser.close()
    assert seen > 10  # the pages drew their metrics
    assert cut == {}


def _demo_reports(database: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT count(*) FROM reports").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_a_fresh_demo_shows_data_on_every_page_with_no_metric_cut_short(
    chromium: Path, tmp_path: Path
) -> None:
    """`teamtide demo` as a newcomer meets it: its default view, at a laptop's and a
    desktop's width; every page draws charts or tables, the Cluster page has no
    "no data" box, and no metric is cut short."""
    import signal

    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    port, directory = free_port(), tmp_path / "demo"
    log = tmp_path / "demo.log"
    command = [sys.executable, "-m", "teamtide.cli", "demo", "--scale", "tiny"]
    demo = subprocess.Popen(
        [*command, "--port", str(port), "--directory", str(directory)],
        cwd=tmp_path,
        # no scheduled sync while the pages are read
        env=dict(os.environ, HOME=str(tmp_path), TEAMTIDE_DEMO_SYNC_MINUTES="60"),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    found: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 300
        while _demo_reports(directory / "teamtide.db") < 4:  # the Reports page's four weeks
            assert demo.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
            for width in (1366, 1920):
                page = browser.new_page(viewport={"width": width, "height": 1000})
                for path, title, charts in PAGES:
                    name = path or "overview"
                    open_page(page, f"http://127.0.0.1:{port}/{path}", title or path, path, charts)
                    shoot(page, f"demo-{name}-{width}.png", width)
                    drawn = page.locator(
                        '.js-plotly-plot, [data-testid="stDataFrame"], [data-testid="stTable"]'
                    ).count()
                    cut = page.evaluate(TRUNCATED)
                    if not drawn:
                        found[f"{name}@{width}"] = "no chart or table"
                    elif cut:
                        found[f"{name}@{width}"] = f"cut short: {cut}"
                    elif name == "cluster" and page.get_by_text("No cluster samples").count():
                        found[f"{name}@{width}"] = "a 'no data' box"
                page.close()
            browser.close()
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
    assert found == {}
