"""`teamtide report --send`: a real SMTP server and webhook receive it, once; `--force` resends."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from PIL import Image
from typer.testing import CliRunner

from db import models, queries
from db.session import make_engine
from metrics import reading
from report import content, figures, weeks, wording
from teamtide.cli import app
from tests.report.helpers import WEBHOOK_PATH, WEEK, html_part, text_part

pytestmark = pytest.mark.slow


def _cli(config_path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(config_path), "report", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _stored(db_url: str, period: str) -> models.Report:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            stored = queries.stored_report(conn, period)
    finally:
        engine.dispose()
    assert stored is not None, f"no report stored for {period}"
    return stored


def _expected(config, figs: dict, weeks_before: int = 0) -> dict:
    """`teamtide metrics` for the report's week (or, with `weeks_before`, for that many
    weeks before it, as its trends compare), as of the moment the report was computed."""
    monday = weeks.parse_week(figs["period"])
    start, end = monday, monday + dt.timedelta(days=6)
    if weeks_before:
        start, end = monday - dt.timedelta(weeks=weeks_before), monday - dt.timedelta(days=1)
    engine = make_engine(config.database.url, readonly=True)
    try:
        with engine.connect() as conn:
            return reading.summary(
                conn, config, start, end, None, dt.datetime.fromisoformat(figs["now"])
            )
    finally:
        engine.dispose()


def _org_section(text: str) -> str:
    """The plain-text org section: from its heading to the first team's."""
    found = re.search(r"^THE ORG\n(.*?)(?=^[A-Z][A-Z ]+\n-+\n)", text, re.S | re.M)
    assert found, "no org section in the text part"
    return found.group(1)


def _resolved_words(resolved: int) -> str:
    return f"{resolved} resolved this week" if resolved else "none resolved this week"


def _row_unit(measure: dict) -> float | None:
    """The figure whose unit a row of the turnaround table reads in: its largest."""
    figures = [b[p] for b in (measure["this"], measure["before"]) for p in ("p50", "p85")]
    return max((f for f in figures if f is not None), default=None)


def _section(text: str, team: str) -> str:
    """The plain-text section of one team (its heading is the name in capitals)."""
    found = re.search(
        rf"^{re.escape(team.upper())}\n-+\n(.*?)(?=^[A-Z][A-Z ]+\n-+\n|\Z)", text, re.S | re.M
    )
    assert found, f"no section for {team} in the text part"
    return found.group(1)


def test_send_mails_every_recipient_a_report_whose_numbers_are_the_metrics(
    report_world, smtp, webhook, monkeypatch
) -> None:
    monkeypatch.setenv("TT_WEBHOOK_URL", webhook.url)
    path, config = report_world.write_config(smtp, webhook)

    code, output = _cli(path, "--week", WEEK, "--send")
    assert code == 0, output

    # one message per recipient, and one webhook post
    assert sorted(a for r in smtp.box.messages for a in r.envelope_to) == sorted(
        config.report.recipients
    )
    assert len(webhook.posts) == 1 and webhook.paths == [WEBHOOK_PATH]
    stored = _stored(report_world.db_url, WEEK)
    figs = stored.summary
    expected = _expected(config, figs)

    message = smtp.box.messages[0].message
    assert message["Subject"].startswith(f"teamtide {WEEK}: ")
    assert message["Subject"].endswith(figs["headlines"][0].rstrip("."))
    assert message.get_content_type() == "multipart/alternative"
    kinds = [part.get_content_type() for part in message.iter_parts()]
    assert kinds == ["text/plain", "multipart/related"]

    # every inline image is a real PNG, referenced by its Content-ID from the HTML
    html = html_part(message).get_content()
    related = list(message.iter_parts())[1]
    images = [p for p in related.iter_parts() if p.get_content_type() == "image/png"]
    assert len(images) >= 3  # the state strip plus two charts per active team
    for part in images:
        cid = part["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        picture = Image.open(io.BytesIO(part.get_content()))
        assert picture.format == "PNG" and picture.width >= 600
    assert len(re.findall(r'src="cid:', html)) == len(images)

    # the figures are `teamtide metrics` for that week, team by team, and the text says them
    text = text_part(message)
    shown = [t for t in figs["teams"] if figures.active(t)]
    assert shown
    for team in shown:
        metrics = next(t for t in expected["teams"] if t["team"] == team["team"])
        cycle = metrics["turnaround"]["cycle_time_hours"]
        review = metrics["turnaround"]["pr_first_review_hours"]
        support = metrics["support"]
        assert team["turnaround"]["cycle_time_hours"]["this"] == {
            k: cycle[k] for k in ("n", "p50", "p85")
        }
        assert team["turnaround"]["pr_first_review_hours"]["this"]["p85"] == review["p85"]
        assert team["support"]["opened"] == support["n"] == support["opened"]
        assert team["support"]["resolved"] == support["resolved"]
        assert team["support"]["sla_breach_rate"] == support["sla_breach_rate"]
        assert [r["fte"] for r in team["allocation"]] == [
            metrics["allocation"]["fte"][c] for c in expected["categories"]
        ]
        section = _section(text, team["team"])
        for key, block in (("cycle_time_hours", cycle), ("pr_first_review_hours", review)):
            unit = _row_unit(team["turnaround"][key])
            assert wording.hours(block["p50"], unit) in section
            assert wording.hours(block["p85"], unit) in section
        if support["n"]:
            assert f"{support['n']} requests opened" in section
            assert f"{wording.percent(support['sla_breach_rate'])} breached" in section
        else:
            assert "no requests opened this week" in section
        assert _resolved_words(support["resolved"]) in section
        assert team["team"] in html

    # the whole org: the figures are the metrics' org block for the week (and, for the trend
    # arrows, for the four weeks before), and its section in the text says them
    org, metrics_org = figs["org"], expected["org"]
    before_org = _expected(config, figs, weeks_before=figures.COMPARE_WEEKS)["org"]
    section = _org_section(text)
    rows = {line.split("  ")[1].strip(): line for line in section.splitlines() if "  " in line}
    for key, label in figures.TURNAROUND:
        this, before = metrics_org["turnaround"][key], before_org["turnaround"][key]
        assert org["turnaround"][key] == {
            "this": {k: this[k] for k in ("n", "p50", "p85")},
            "before": {k: before[k] for k in ("n", "p50", "p85")},
        }
        arrow = wording.trend(this["p85"], before["p85"])
        row = rows[label]  # the org's turnaround table: n, p50, p85, before, trend
        unit = _row_unit(org["turnaround"][key])
        assert wording.hours(this["p50"], unit) in row and wording.hours(this["p85"], unit) in row
        assert arrow.words() in row
        # the overview's org row shows the p85 with its arrow
        assert f"{wording.hours(this['p85'])} {arrow.arrow}" in rows[content.ORG_NAME]
    support = metrics_org["support"]
    assert org["support"]["opened"] == support["opened"] == support["n"]
    assert org["support"]["resolved"] == support["resolved"]
    assert org["support"]["open"] == support["open"]
    assert org["support"]["unassigned"] == support["unassigned"]
    assert org["support"]["sla_breach_rate"] == support["sla_breach_rate"]
    assert org["load"]["load"] == metrics_org["load"]["weekly"][-1]["load"]
    assert [r["fte"] for r in org["allocation"]] == [
        metrics_org["allocation"]["fte"][c] for c in expected["categories"]
    ]
    if support["n"]:
        assert f"{support['n']} requests opened" in section
        assert f"{wording.percent(support['sla_breach_rate'])} breached" in section
    assert _resolved_words(support["resolved"]) in section
    assert f"{support['opened']} / {support['resolved']}" in rows[content.ORG_NAME]
    total = sum(metrics_org["allocation"]["fte"].values())
    assert f"FTE this week: {wording.fte(total)}" in section
    assert content.ORG_NAME in html and "The whole org: turnaround" in html
    # the org table is in both parts; the text opens with the headlines
    for line in figs["headlines"]:
        assert f"* {line}" in text
    assert 3 <= len(figs["headlines"]) <= 5

    # the webhook got the headlines, and no secret is stored anywhere
    post = webhook.posts[0]
    assert post["text"].startswith(content.title(figs))
    assert all(line.split(" ")[0] in post["text"] for line in figs["headlines"])
    assert stored.delivered_to == [*config.report.recipients, "webhook"]
    assert WEBHOOK_PATH not in str(stored.summary) + stored.body + (stored.html or "")


def test_a_second_send_sends_nothing_and_force_resends_to_everyone(
    report_world, smtp, webhook, monkeypatch
) -> None:
    monkeypatch.setenv("TT_WEBHOOK_URL", webhook.url)
    path, config = report_world.write_config(smtp, webhook)
    assert _cli(path, "--week", WEEK, "--send")[0] == 0
    first = _stored(report_world.db_url, WEEK)
    assert len(smtp.box.messages) == 2 and len(webhook.posts) == 1

    code, output = _cli(path, "--week", WEEK, "--send")
    assert code == 0, output
    assert "already sent" in output
    assert len(smtp.box.messages) == 2 and len(webhook.posts) == 1
    # frozen once sent: the same figures, not recomputed
    assert _stored(report_world.db_url, WEEK).summary == first.summary

    code, output = _cli(path, "--week", WEEK, "--send", "--force")
    assert code == 0, output
    assert len(smtp.box.messages) == 4 and len(webhook.posts) == 2
    for address in config.report.recipients:
        ids = {m["Message-ID"] for m in smtp.box.to(address)}
        assert len(ids) == 2  # a deliberate resend is a new message, not a retry


def test_starttls_with_login_from_the_environment_delivers(
    report_world, smtp_starttls, monkeypatch
) -> None:
    path, _ = report_world.write_config(
        smtp_starttls, security="starttls", recipients=["cto@acme.example"]
    )
    code, output = _cli(path, "--week", WEEK, "--send")
    assert code == 0, output
    assert [r.envelope_to for r in smtp_starttls.box.messages] == [["cto@acme.example"]]
    assert "s3cret-smtp-pass" not in output


def test_each_team_lead_gets_one_message_with_their_team_first(report_world, smtp) -> None:
    path, config = report_world.write_config(
        smtp,
        recipients=["director@acme.example"],
        per_team_lead=True,
        leads={"Infra": ["Petra Moreau"], "Enablement": ["Kai Ivanova"]},
    )
    assert _cli(path, "--week", WEEK, "--send")[0] == 0
    people = {p.name: p.emails[0] for p in config.org.people}
    assert sorted(a for r in smtp.box.messages for a in r.envelope_to) == sorted(
        ["director@acme.example", people["Petra Moreau"], people["Kai Ivanova"]]
    )
    for lead, team in (("Petra Moreau", "Infra"), ("Kai Ivanova", "Enablement")):
        (message,) = smtp.box.to(people[lead])
        text = text_part(message)
        sections = re.findall(r"^([A-Z][A-Z ]+)\n-+\n", text, re.M)
        assert sections[0] == team.upper()


# aiosmtpd warns since it only counts STARTTLS as TLS; this server is TLS from the first byte
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_ssl_from_the_first_byte_with_login_delivers(report_world, smtp_ssl) -> None:
    path, _ = report_world.write_config(smtp_ssl, security="ssl", recipients=["cto@acme.example"])
    code, output = _cli(path, "--week", WEEK, "--send")
    assert code == 0, output
    assert [r.envelope_to for r in smtp_ssl.box.messages] == [["cto@acme.example"]]


def test_an_untrusted_certificate_fails_the_delivery_and_says_what_to_check(
    report_world, smtp_starttls, monkeypatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")  # the test server's certificate is not trusted now
    path, _ = report_world.write_config(
        smtp_starttls, security="starttls", recipients=["cto@acme.example"]
    )
    code, output = _cli(path, "--week", WEEK, "--send")
    assert code == 1
    assert "TLS with the SMTP server" in output and "certificate" in output
    assert "report.smtp.security" in output  # the org file's own key
    assert smtp_starttls.box.messages == []


def test_send_with_nobody_to_send_to_names_the_org_files_keys(report_world) -> None:
    path, _ = report_world.write_config(None, recipients=[])
    code, output = _cli(path, "--week", WEEK, "--send")
    assert code == 2
    assert "report.recipients" in output and "report.webhook_url" in output


def test_send_waits_for_no_one_while_another_sender_holds_the_lease(report_world, smtp) -> None:
    from db import locks

    path, config = report_world.write_config(smtp)
    engine = make_engine(config.database.url)
    try:
        assert locks.acquire(
            engine,
            "report",
            "scheduler-elsewhere",
            dt.timedelta(minutes=2),
            dt.datetime.now(dt.UTC),
        )
        code, output = _cli(path, "--week", WEEK, "--send")
    finally:
        engine.dispose()
    assert code == 1, output
    assert "another teamtide" in output and "nothing will be sent twice" in output
    assert smtp.box.messages == []


def test_without_a_browser_the_report_still_goes_out_and_says_its_charts_are_missing(
    report_world, smtp, monkeypatch
) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(report_world.directory / "no-chromium-here"))
    path, _ = report_world.write_config(smtp, recipients=["cto@acme.example"])
    code, output = _cli(path, "--week", WEEK, "--send")
    assert code == 0, output
    assert "charts could not be drawn" in output
    (message,) = smtp.box.to("cto@acme.example")
    html = html_part(message).get_content()
    assert "The charts could not be drawn" in html and "cid:" not in html
