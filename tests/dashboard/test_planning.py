"""The Planning page on the `small` sandbox world: every team's forecast, its accuracy, and the
director's one-screen view; in AppTest, and in Chromium at a laptop's width (screenshot)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from benchmarks.loader import cached
from config.load import load_config
from dashboard import widgets
from db import queries
from db.session import session_scope
from metrics import reading
from report.forecast_words import near_accuracy
from tests.dashboard.helpers import metrics, texts
from tests.dashboard.test_browser import (
    ARGS,
    ARTIFACTS,
    open_page,
    shoot,
    streamlit_server,
)

QUERY = {"from": "2025-04-07", "to": "2025-06-29"}


@pytest.fixture(scope="module")
def small_config() -> Path:
    return cached("small", 2, dt.date(2025, 6, 30), progress=lambda _: None).config_path


def _as_of(config_path: Path) -> dt.datetime:
    """The dashboard's "now": the last successful sync, to the minute (`data.as_of`)."""
    config = load_config(config_path)
    engine = create_engine(config.database.url)
    with session_scope(engine) as session:
        latest = max(s.last_success for s in queries.sync_states(session) if s.last_success)
    engine.dispose()
    latest = latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)
    return min(latest, dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)


@pytest.fixture(scope="module")
def block(small_config: Path) -> dict[str, Any]:
    config = load_config(small_config)
    engine = create_engine(config.database.url)
    with engine.connect() as conn:
        found = reading.forecast(conn, config, None, _as_of(small_config))
    engine.dispose()
    return found


def test_planning_shows_each_staffed_team_with_its_accuracy(run_page, small_config, block):
    at = run_page(small_config, "planning", **QUERY)
    assert not at.exception, [e.message for e in at.exception]
    staffed = [t for t in block["teams"] if any(w["expected"] is not None for w in t["weeks"])]
    # Squad was dissolved in the reorg: no members ahead, no section.
    assert [t["team"] for t in staffed] == ["Research", "Infra", "Enablement"]
    assert texts(at.main.subheader) == [t["team"] for t in staffed]
    mase = [widgets.number(near_accuracy(t)[0], 2) for t in staffed]
    coverage = [widgets.percent(near_accuracy(t)[1]) for t in staffed]
    assert metrics(at)["MASE, 1-4 weeks ahead"] == mase
    assert metrics(at)["80% band held"] == coverage
    # the summary table gives the same figures, shares in whole percent as the metrics
    summary = at.dataframe[0].value
    assert list(summary["team"]) == [t["team"] for t in staffed]
    held = summary.set_index("team")["80% band held, 1-4 weeks (%)"]
    assert [held[t["team"]] for t in staffed] == [round(100 * near_accuracy(t)[1]) for t in staffed]
    peak = summary.set_index("team")["peak chance of a flood (%)"]
    assert [peak[t["team"]] for t in staffed] == [
        round(100 * max(w["p_flood"] or 0.0 for w in t["weeks"])) for t in staffed
    ]
    # The director's strip of every team, then per team a forecast and an odds strip.
    assert len(at.get("plotly_chart")) == 1 + 2 * len(staffed)
    assert any("12-week" not in c and "cycle of 8 weeks" in c for c in texts(at.caption))


def test_an_untested_forecast_says_it_shows_seasonal_naive(run_page, synced_world):
    # The tiny world has 13 weeks of history: too little for a backtest, so every team's
    # forecast is seasonal naive, and the page says why.
    at = run_page(synced_world.config_path, "planning", **QUERY)
    assert not at.exception
    warnings = texts(at.warning)
    assert warnings and all("Too little history to test a model" in w for w in warnings)


@pytest.fixture(scope="module")
def small_server(small_config: Path) -> Iterator[str]:
    with streamlit_server(small_config) as url:
        yield url


@pytest.mark.browser
def test_planning_in_chromium_at_a_laptop_width(small_server: str) -> None:
    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip(f"{chromium} is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        url = f"{small_server}/planning?from={QUERY['from']}&to={QUERY['to']}"
        open_page(page, url, "Planning", "planning", 7)
        shoot(page, "page-planning-1366.png", 1366)
        exceptions = page.locator('[data-testid="stException"]').count()
        browser.close()
    assert not exceptions and not errors, errors
