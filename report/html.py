"""The report as an HTML e-mail: inline styles and tables (what mail clients render), its
charts as images whose `src` the caller gives (`cid:` parts in an e-mail, files beside
an `--out` page).

Text from the sources is escaped: it is never markup.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from report.content import ORG_NAME
from report.outline import (
    Block,
    Chart,
    ChartsMissing,
    Facts,
    Footer,
    Freshness,
    Heading,
    Headlines,
    Note,
    Subheading,
    Table,
    TeamHeading,
    Title,
    outline,
)
from report.week_charts import CHART_WIDTH

FONT = "font-family:Helvetica,Arial,sans-serif;"
INK, MUTED, LINE, ACCENT = "#1f2933", "#616e7c", "#e4e7eb", "#1f3b57"
STATE_BG = {"flood": "#fde2e1", "drought": "#fff1db", "normal": "#e6f0f8"}
GOOD, BAD = "#2f855a", "#c53030"


def e(value: Any) -> str:
    """Source text as HTML text, never markup."""
    return html.escape(str(value), quote=True)


def render(
    figs: dict[str, Any],
    lines: list[str],
    image_src: Callable[[str], str],
    images: Sequence[str],
    first_team: str | None = None,
    dashboard_url: str | None = None,
    chart_error: str | None = None,
) -> str:
    """The HTML e-mail; `image_src(name)` gives each chart's `src` (a `cid:` in the e-mail).

    `images` are the charts drawn (others are left out); `chart_error` says why there are
    none, when drawing them failed.
    """
    blocks = outline(figs, lines, first_team, chart_error)
    page_title = next(b.words for b in blocks if isinstance(b, Title))
    shown = set(images)
    parts = [
        f'<div style="background:#f5f7fa;padding:24px 0;{FONT}">'
        f'<table role="presentation" align="center" cellspacing="0" cellpadding="0" '
        f'style="width:100%;max-width:680px;margin:0 auto;background:#ffffff;border:1px solid {LINE};'
        f'border-radius:6px"><tr><td style="padding:24px 20px;color:{INK}">',
        *(_html(block, image_src, shown, dashboard_url) for block in blocks),
        "</td></tr></table></div>",
    ]
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<title>{e(page_title)}</title></head><body style="margin:0">'
        + "".join(parts)
        + "</body></html>"
    )


def _html(
    block: Block, image_src: Callable[[str], str], shown: set[str], dashboard_url: str | None
) -> str:
    match block:
        case Title(period=period, days=days):
            return (
                f'<div style="font-size:12px;color:{MUTED};text-transform:uppercase;letter-spacing:1px">'
                f"teamtide weekly report</div>"
                f'<h1 style="font-size:22px;margin:4px 0 16px;color:{ACCENT}">{e(period)} · '
                f"{e(days)}</h1>"
            )
        case Headlines(lines=lines):
            return (
                f'<div style="background:#eef4fb;border-left:4px solid {ACCENT};padding:10px 14px;margin:0 0 16px">'
                f'<ul style="margin:0;padding-left:18px;font-size:15px;line-height:1.5">'
                + "".join(f"<li>{e(line)}</li>" for line in lines)
                + "</ul></div>"
            )
        case Freshness(lines=lines):
            return (
                '<div style="background:#fff8e1;border-left:4px solid #d69e2e;padding:10px 14px;'
                'margin:0 0 16px;font-size:13px"><strong>Data freshness</strong>'
                '<ul style="margin:4px 0 0;padding-left:18px">'
                + "".join(f"<li>{e(line)}</li>" for line in lines)
                + "</ul></div>"
            )
        case Heading(words=words):
            return _h2(words)
        case TeamHeading(name=name, state=state, state_words=words):
            return (
                _h2(name)
                + f'<span style="display:inline-block;font-size:12px;padding:2px 8px;border-radius:10px;'
                f'background:{STATE_BG.get(state, "#f5f7fa")};margin:0 0 8px">{e(words)}</span>'
            )
        case Facts(lines=lines):
            return (
                '<ul style="font-size:13px;line-height:1.5;margin:4px 0 12px;padding-left:18px">'
                + "".join(f"<li>{e(line)}</li>" for line in lines)
                + "</ul>"
            )
        case Subheading(words=words):
            return _h3(words)
        case Table(rows=rows, marks=marks):
            return _html_table(rows, _arrow_colour if marks == "trends" else _moved_colour)
        case Note(words=words):
            return f'<p style="font-size:12px;color:{MUTED}">{e(words)}</p>'
        case ChartsMissing(error=error):
            return (
                f'<p style="font-size:12px;color:{MUTED}">The charts could not be drawn for this '
                f"report ({e(error)}); the dashboard shows them.</p>"
            )
        case Chart(name=name):
            if name not in shown:
                return ""
            return (
                f'<img src="{e(image_src(name))}" width="{CHART_WIDTH}" alt="{e(name)}" '
                f'style="display:block;width:100%;max-width:{CHART_WIDTH}px;height:auto;margin:8px 0 4px;border:0">'
            )
        case Footer(words=words):
            link = (
                f' <a href="{e(dashboard_url)}" style="color:{ACCENT}">Open the dashboard</a>.'
                if dashboard_url
                else ""
            )
            return (
                f'<p style="font-size:11px;color:{MUTED};border-top:1px solid {LINE};padding-top:10px;'
                f'margin-top:20px">{e(words)}{link}</p>'
            )
    raise TypeError(f"no HTML for {block!r}")


def _html_table(rows: list[dict[str, str]], colour: Callable[[str, str], str] | None = None) -> str:
    if not rows:
        return f'<p style="color:{MUTED};margin:4px 0 12px">Nothing to show.</p>'
    heads = list(rows[0])
    th = "".join(
        f'<th style="text-align:left;padding:6px 8px;border-bottom:2px solid {LINE};'
        f'font-size:12px;color:{MUTED};font-weight:600">{e(h)}</th>'
        for h in heads
    )
    body = ""
    for r in rows:
        cells = ""
        for h in heads:
            style = colour(h, r[h]) if colour else ""
            # short figures never break inside ("13.4 d ↑" on one line); names may wrap
            wrap = "white-space:nowrap;" if len(r[h]) <= 12 and h != heads[0] else ""
            cells += (
                f'<td style="padding:6px 8px;border-bottom:1px solid {LINE};font-size:13px;'
                f'{wrap}{style}">{e(r[h])}</td>'
            )
        body += f"<tr>{cells}</tr>"
    return (
        f'<table role="presentation" cellspacing="0" cellpadding="0" '
        f'style="border-collapse:collapse;width:100%;margin:4px 0 16px;{FONT}color:{INK}">'
        f"<tr>{th}</tr>{body}</table>"
    )


def _arrow_colour(head: str, value: str) -> str:
    # durations: getting longer is bad news, shorter is good
    if "↑" in value:
        return f"color:{BAD};font-weight:600"
    if "↓" in value:
        return f"color:{GOOD};font-weight:600"
    if head == "Team" and value == ORG_NAME:  # the org's row closes the overview: set it apart
        return "font-weight:600"
    if head == "Load":
        state = value.split(" ")[0]
        return f"background:{STATE_BG.get(state, '#f5f7fa')}"
    return ""


def _moved_colour(head: str, value: str) -> str:
    if head != "Moved" or value.startswith("±0"):
        return ""
    return f"color:{ACCENT};font-weight:600"


def _h2(words: str) -> str:
    return (
        f'<h2 style="font-size:17px;margin:22px 0 6px;padding-top:12px;border-top:1px solid {LINE};'
        f'color:{ACCENT}">{e(words)}</h2>'
    )


def _h3(words: str) -> str:
    return f'<h3 style="font-size:13px;margin:10px 0 2px;color:{MUTED}">{e(words)}</h3>'
