"""The report as plain text: the e-mail's text part and the `--out` .txt file.

Only printable characters of the sources' text are kept: control characters could
rewrite a terminal.
"""

from __future__ import annotations

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


def render(figs: dict[str, Any], lines: list[str], first_team: str | None = None) -> str:
    out: list[str] = []
    for block in outline(figs, lines, first_team):
        out += _lines(block)
    return "\n".join(out) + "\n"


def _lines(block: Block) -> list[str]:
    match block:
        case Title(words=words):
            head = plain(words)
            return [head, "=" * len(head), ""]
        case Headlines(lines=lines):
            return [*(f"* {plain(line)}" for line in lines), ""]
        case Freshness(lines=lines):
            return ["DATA FRESHNESS", *(f"  ! {plain(line)}" for line in lines), ""]
        case Heading(words=words):
            return [plain(words).upper(), ""]
        case TeamHeading(name=name):
            name = plain(name).upper()
            return [name, "-" * len(name)]
        case Facts(lines=lines):
            return [*(f"  {plain(line)}" for line in lines), ""]
        case Subheading(words=words):
            return [f"  {plain(words)}"]
        case Table(rows=rows):
            return _table(rows)
        case Note(words=words):
            return [plain(words), ""]
        case Footer(words=words):
            return [words]
    return []  # the charts: plain text has none


def plain(value: Any) -> str:
    """Source text with printable characters only."""
    return "".join(ch for ch in str(value) if ch.isprintable())


def _table(rows: list[dict[str, str]]) -> list[str]:
    if not rows:
        return ["  (nothing to show)", ""]
    heads = list(rows[0])
    widths = [max(len(h), *(len(plain(r[h])) for r in rows)) for h in heads]
    line = lambda cells: "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    out = [line(heads), line(["-" * w for w in widths])]
    out += [line([plain(r[h]) for h in heads]) for r in rows]
    return [*out, ""]
