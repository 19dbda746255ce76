"""The report as Markdown: what the dashboard's Reports page shows and `reports.body` stores.

Text from the sources is escaped: it is never markup.
"""

from __future__ import annotations

import re
from typing import Any

from report.outline import (
    Block,
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

# Inline markup only: with [ escaped no link can form, and our own text decides line starts.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~])")


def md(value: Any) -> str:
    """Source text as literal Markdown: every character that could be markup is escaped."""
    return _MD_SPECIAL.sub(r"\\\1", str(value)).replace("\n", " ")


def render(figs: dict[str, Any], lines: list[str], first_team: str | None = None) -> str:
    out: list[str] = []
    for block in outline(figs, lines, first_team):
        out += _lines(block)
    return "\n".join(out) + "\n"


def _lines(block: Block) -> list[str]:
    match block:
        case Title(words=words):
            return [f"# {md(words)}", ""]
        case Headlines(lines=lines) | Facts(lines=lines):
            return [*(f"- {md(line)}" for line in lines), ""]
        case Freshness(lines=lines):
            return ["> **Data freshness**", ">", *(f"> - {md(line)}" for line in lines), ""]
        case Heading(words=words) | TeamHeading(name=words):
            return [f"## {md(words)}", ""]
        case Subheading(words=words):
            return [f"**{md(words)}**", ""]
        case Table(rows=rows):
            return _table(rows)
        case Note(words=words):
            return [md(words), ""]
        case Footer(words=words):
            return [words]
    return []  # the charts: Markdown has none


def _table(rows: list[dict[str, str]]) -> list[str]:
    if not rows:
        return ["_nothing to show_", ""]
    heads = list(rows[0])
    out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    out += ["| " + " | ".join(md(r[h]) for h in heads) + " |" for r in rows]
    return [*out, ""]
