"""The report's files (`--out`), its escaping of source text, its headlines, and how it looks."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from db import models
from db.session import make_engine
from report import weekly
from teamtide.cli import app
from tests.report.helpers import ARTIFACTS, NOW, WEEK

HOSTILE = "<img src=x onerror=alert(1)> *boom* | [x](javascript:alert(2)) <script>bad()</script>"


def _figures(config) -> dict:
    engine = make_engine(config.database.url, readonly=True)
    try:
        with engine.connect() as conn:
            return weekly.build(conn, config, weekly.parse_week(WEEK), NOW)
    finally:
        engine.dispose()


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
    figs = _figures(config)
    rendered = weekly.render(figs, images=False)
    html = rendered.html(lambda name: f"cid:{name}")
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # in Markdown every bracket and angle of it is backslash-escaped: no tag, no link
    assert not re.search(r"(?<!\\)<(script|img)", rendered.markdown)
    assert not re.search(r"(?<!\\)\]\(javascript:", rendered.markdown)
    assert r"\<img src=x onerror=alert(1)\>" in rendered.markdown
    payload = weekly.webhook_payload(figs, rendered.headlines, "https://hooks.slack.com/services/x")
    assert "<img" not in payload["text"] and "&lt;img" in payload["text"]
    # a failing source is the first headline: nobody reads stale numbers as news
    assert rendered.headlines[0].startswith("Jira failed on its last sync")


def test_headlines_are_three_to_five_sentences_drawn_from_the_figures(report_world) -> None:
    _, config = report_world.write_config()
    figs = _figures(config)
    lines = weekly.headlines(figs)
    assert 3 <= len(lines) <= 5
    assert all(line.endswith(".") and line[0].isupper() for line in lines)
    # each team in a flood or drought is named in a headline with its streak, most pressing first
    for team in figs["teams"]:
        if weekly.active(team) and team["load"]["state"] in ("flood", "drought"):
            assert any(team["team"] in line and team["load"]["state"] in line for line in lines)


def test_a_report_stored_before_the_org_figures_still_renders(report_world) -> None:
    """Frozen reports keep their stored figures: one from before the org block and the
    `resolved` count renders with the org totals summed over teams, as it was sent."""
    _, config = report_world.write_config()
    figs = copy.deepcopy(_figures(config))
    del figs["org"]
    for team in figs["teams"]:
        for key in ("resolved", "unassigned"):
            del team["support"][key]
    text = weekly.render(figs, images=False).text()
    assert weekly.ORG_NAME not in text and "The whole org" not in text
    teams = [t for t in figs["teams"] if weekly.active(t)]
    opened = sum(t["support"]["opened"] for t in teams) + figs["unassigned_support_requests"]
    assert f"Support requests opened: {opened} " in text
    for team in teams:
        s = team["support"]
        if s["opened"]:
            assert f"{s['opened'] - s['open']} of them resolved" in text


def test_streak_counts_the_weeks_in_a_row_ending_with_the_last() -> None:
    # ... normal, flood, flood, flood: the 3rd week of a flood
    assert weekly._streak(["normal", "flood", "flood", "flood"]) == 3
    assert weekly._streak(["flood", "normal"]) == 1
    assert weekly._streak([None, None]) == 0
    assert weekly._streak([]) == 0


def test_parse_week_reads_iso_weeks_and_rejects_others() -> None:
    assert str(weekly.parse_week("2025-W26")) == "2025-06-23"
    assert weekly.week_label(weekly.parse_week("2020-W53")) == "2020-W53"
    for bad in ("2025-26", "2025-W54", "W26"):
        with pytest.raises(ValueError):
            weekly.parse_week(bad)


@pytest.mark.slow
@pytest.mark.browser
def test_the_html_email_looks_right_in_a_browser(report_world) -> None:
    """A screenshot of the rendered e-mail, kept in test-artifacts/ for a person to look at."""
    from playwright.sync_api import sync_playwright

    _, config = report_world.write_config()
    rendered = weekly.render(_figures(config))
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


def test_the_webhook_summary_is_slack_blocks_or_a_teams_card_by_url(report_world) -> None:
    _, config = report_world.write_config()
    figs = _figures(config)
    lines = weekly.headlines(figs)
    slack = weekly.webhook_payload(
        figs, lines, "https://hooks.slack.com/services/T/B/x", "https://d"
    )
    assert slack["blocks"][0]["text"]["text"] == weekly.title(figs)
    assert all(
        f"• {line}" in slack["blocks"][1]["text"]["text"] for line in lines if "<" not in line
    )
    teams = weekly.webhook_payload(
        figs, lines, "https://acme.webhook.office.com/webhookb2/x", "https://d"
    )
    assert teams["@type"] == "MessageCard" and teams["title"] == weekly.title(figs)
    assert teams["potentialAction"][0]["targets"][0]["uri"] == "https://d"


def test_the_default_week_is_the_last_one_that_ended_in_the_org_timezone(report_world) -> None:
    import datetime as dt

    _, config = report_world.write_config()  # Europe/Dublin: UTC+1 in summer
    monday_8am = dt.datetime(2025, 6, 30, 7, 0, tzinfo=dt.UTC)
    assert weekly.last_complete_week(monday_8am, config) == dt.date(2025, 6, 23)
    # 23:30 UTC on Sunday is already Monday in Dublin: the week of the 23rd has ended
    assert weekly.last_complete_week(dt.datetime(2025, 6, 29, 23, 30, tzinfo=dt.UTC), config) == (
        dt.date(2025, 6, 23)
    )
    # 22:30 UTC on Sunday is still Sunday there: the last ended week is the one before
    assert weekly.last_complete_week(dt.datetime(2025, 6, 29, 22, 30, tzinfo=dt.UTC), config) == (
        dt.date(2025, 6, 16)
    )
