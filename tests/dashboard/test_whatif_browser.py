"""The What-if page in headless Chromium at a laptop width: a saved scenario simulated beside
the baseline, screenshot in test-artifacts/whatif-1366.png for a human to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import END, START
from tests.dashboard.test_browser import (
    ARGS,
    ARTIFACTS,
    chromium,
    shoot,
    streamlit_server,
)
from tests.dashboard.test_whatif import saved

pytestmark = pytest.mark.browser
IDLE = """() => !document.querySelector('[data-testid="stStatusWidget"]')"""
__all__ = ["chromium", "saved"]  # fixtures shared with the other browser and page tests


@pytest.fixture(scope="module")
def whatif_server(saved: dict[str, Any]) -> Iterator[str]:
    with streamlit_server(saved["director"]) as url:
        yield url


def test_the_what_if_page_simulates_a_scenario_at_1366_px(
    chromium: Path, whatif_server: str, synced_world: Any
):
    from collections import Counter

    from playwright.sync_api import sync_playwright

    children = Counter(i.epic_key for i in synced_world.world.issues if i.epic_key)
    epic = children.most_common(1)[0][0]

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        page.goto(f"{whatif_server}/whatif?from={START}&to={END}", wait_until="load")
        page.get_by_role("heading", name="What if", exact=True).first.wait_for(timeout=60_000)
        page.get_by_role("button", name="Simulate").click()
        page.wait_for_function(
            "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 1",
            timeout=120_000,
        )
        page.wait_for_function(IDLE, timeout=120_000)
        page.get_by_label("Epic key").fill(epic)
        page.get_by_role("button", name="Forecast").click()
        page.get_by_text("Backtest: done by P85").first.wait_for(timeout=120_000)
        page.wait_for_function(IDLE, timeout=120_000)
        page.wait_for_timeout(800)
        shoot(page, "whatif-1366.png", 1366)
        errors = page.locator('[data-testid="stException"]').count()
        browser.close()
    assert errors == 0
    assert (ARTIFACTS / "whatif-1366.png").stat().st_size > 10_000
