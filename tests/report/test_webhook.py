"""The webhook summary: Slack blocks, or a Microsoft Teams card, by the webhook's URL."""

from __future__ import annotations

from report import content, headlines, webhook
from tests.report.helpers import week_figures


def test_the_webhook_summary_is_slack_blocks_or_a_teams_card_by_url(report_world) -> None:
    _, config = report_world.write_config()
    figs = week_figures(config)
    lines = headlines.headlines(figs)
    slack = webhook.payload(figs, lines, "https://hooks.slack.com/services/T/B/x", "https://d")
    assert slack["blocks"][0]["text"]["text"] == content.title(figs)
    assert all(
        f"• {line}" in slack["blocks"][1]["text"]["text"] for line in lines if "<" not in line
    )
    teams = webhook.payload(figs, lines, "https://acme.webhook.office.com/webhookb2/x", "https://d")
    assert teams["@type"] == "MessageCard" and teams["title"] == content.title(figs)
    assert teams["potentialAction"][0]["targets"][0]["uri"] == "https://d"


def test_a_link_written_in_source_text_is_no_live_link_in_a_chat() -> None:
    figs = {"period": "2025-W26", "teams": [], "from": "2025-06-23", "to": "2025-06-29"}
    line = "Infra closed [click me](https://evil.example/steal) and <b>bold</b> & more."
    teams = webhook.payload(figs, [line], "https://acme.webhook.office.com/webhookb2/x")
    text = teams["text"]
    assert "](" not in text and "[click me]" not in text and "<b>" not in text
    assert "&#91;click me&#93;(https://evil.example/steal)" in text
    slack = webhook.payload(figs, [line], "https://hooks.slack.com/services/T/B/x")
    body = slack["blocks"][1]["text"]["text"]
    assert "<b>" not in body and "&lt;b&gt;" in body and "&amp; more" in body
