"""The report in a chat: a short summary for an incoming webhook (Slack, or Microsoft Teams).

Its headlines only, with a link to the dashboard; the full report goes by e-mail.
"""

from __future__ import annotations

from typing import Any

from report.content import title
from report.html import e


def payload(
    figs: dict[str, Any], lines: list[str], url: str, dashboard_url: str | None = None
) -> dict[str, Any]:
    """A short summary for an incoming webhook: a Teams MessageCard for Office URLs, else Slack."""
    return message_payload(title(figs), lines, url, dashboard_url)


def message_payload(
    heading: str, lines: list[str], url: str, dashboard_url: str | None = None
) -> dict[str, Any]:
    """A heading and lines for an incoming webhook (the report's summary, or an alert)."""
    bullets = "\n".join(f"• {_slack_escape(line)}" for line in lines)
    if any(host in url for host in ("office.com", "office365.com", "logic.azure.com")):
        card: dict[str, Any] = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": heading,
            "title": heading,
            "text": "\n\n".join(_teams_escape(line) for line in lines),
        }
        if dashboard_url:
            card["potentialAction"] = [
                {
                    "@type": "OpenUri",
                    "name": "Open the dashboard",
                    "targets": [{"os": "default", "uri": dashboard_url}],
                }
            ]
        return card
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": bullets[:3000]}},
    ]
    if dashboard_url:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{dashboard_url}|Open the dashboard>"}],
            }
        )
    return {"text": f"{heading}\n{bullets}", "blocks": blocks}


def _slack_escape(words: str) -> str:
    # Slack's mrkdwn reads &, < and > as control characters (links, mentions)
    return words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _teams_escape(words: str) -> str:
    # A card's text is HTML and Markdown at once: escaped as HTML, and with its brackets
    # as entities, so a source's `[text](url)` stays text rather than becoming a live link
    return e(words).replace("[", "&#91;").replace("]", "&#93;")
