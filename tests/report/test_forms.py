"""The report's forms: its files (`--out`), its escaping of source text, and how it looks."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from db import models
from db.session import make_engine
from report import content, figures, webhook, weekly
from teamtide.cli import app
from tests.report.helpers import ARTIFACTS, WEEK, week_figures

HOSTILE = "<img src=x onerror=alert(1)> *boom* | [x](javascript:alert(2)) <script>bad()</script>"


@pytest.mark.slow
def test_out_writes_markdown_html_text_and_the_charts_it_links(report_world) -> None:
    path, _ = report_world.write_config()
    out = report_world.directory / "out"
    result = CliRunner().invoke(
        app, ["--config", str(path), "report", "--week", WEEK, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    stem = out / f"teamtide-report-{WEEK}"
    markdown = stem.with_suffix(".md").read_text()
    html = stem.with_suffix(".html").read_text()
    text = stem.with_suffix(".txt").read_text()
    assert markdown.startswith(f"# teamtide weekly report, {WEEK}")
    assert text.startswith(f"teamtide weekly report, {WEEK}")
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert sources, "the HTML shows no chart"
    for src in sources:
        picture = out / src
        assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), src
    # the same report went into the database, for the Reports page
    engine = make_engine(report_world.db_url)
    with engine.connect() as conn:
        from db import queries

        stored = queries.stored_report(conn, WEEK)
    engine.dispose()
    assert stored is not None and stored.body == markdown


def test_source_text_is_escaped_in_html_markdown_and_the_webhook(report_world) -> None:
    _, config = report_world.write_config()
    engine = make_engine(report_world.db_url)
    with engine.begin() as conn:  # a sync error that echoes what a hostile server said
        conn.execute(
            update(models.SyncState)
            .where(models.SyncState.source == "jira")
            .values(last_error=HOSTILE)
        )
    engine.dispose()
    figs = week_figures(config)
    rendered = weekly.render(figs, images=False)
    html = rendered.html(lambda name: f"cid:{name}")
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # in Markdown every bracket and angle of it is backslash-escaped: no tag, no link
    assert not re.search(r"(?<!\\)<(script|img)", rendered.markdown)
    assert not re.search(r"(?<!\\)\]\(javascript:", rendered.markdown)
    assert r"\<img src=x onerror=alert(1)\>" in rendered.markdown
    payload = webhook.payload(figs, rendered.headlines, "https://hooks.slack.com/services/x")
    assert "<img" not in payload["text"] and "&lt;img" in payload["text"]
    # a failing source is the first headline: nobody reads stale numbers as news
    assert rendered.headlines[0].startswith("Jira failed on its last sync")


def test_a_report_stored_before_the_org_figures_still_renders(report_world) -> None:
    """Frozen reports keep their stored figures: one from before the org block and the
    `resolved` count renders with the org totals summed over teams, as it was sent."""
    _, config = report_world.write_config()
    figs = copy.deepcopy(week_figures(config))
    del figs["org"]
    for team in figs["teams"]:
        for key in ("resolved", "unassigned"):
            del team["support"][key]
    text = weekly.render(figs, images=False).text()
    assert content.ORG_NAME not in text and "The whole org" not in text
    teams = [t for t in figs["teams"] if figures.active(t)]
    opened = sum(t["support"]["opened"] for t in teams) + figs["unassigned_support_requests"]
    assert f"Support requests opened: {opened} " in text
    for team in teams:
        s = team["support"]
        if s["opened"]:
            assert f"{s['opened'] - s['open']} of them resolved" in text


@pytest.mark.slow
@pytest.mark.browser
def test_the_html_email_looks_right_in_a_browser(report_world) -> None:
    """A screenshot of the rendered e-mail, kept in test-artifacts/ for a person to look at."""
    from playwright.sync_api import sync_playwright

    _, config = report_world.write_config()
    rendered = weekly.render(week_figures(config))
    out = report_world.directory / "shot"
    rendered.write(out, "https://teamtide.acme.example")
    page_file = out / f"teamtide-report-{WEEK}.html"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-{WEEK}.png"
    args = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
    ]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        try:
            page = browser.new_page(viewport={"width": 760, "height": 1000})
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            # every chart loaded (a broken image has no natural width)
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            assert widths and all(w > 0 for w in widths)
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert Path(shot).stat().st_size > 50_000
