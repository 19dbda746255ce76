"""The org file's Jira filter (`sources.jira.jql`): where its ORDER BY clause starts.

The Jira collector adds its own time bound and order to the configured filter, so it
must know where the filter's conditions end. A regular expression can't tell `ORDER BY`
the clause from the words "order by" inside a quoted value (`summary ~ "law and order by
night"`); this scanner reads the query as Jira does: strings in double or single quotes,
with backslash escapes (`\\"`, `\\'`, `\\\\`), and parentheses. The first `ORDER BY`
outside every string and parenthesis starts the clause. A string left open is reported
(schema validation names the key and line) rather than cut somewhere.
"""

from __future__ import annotations

import re

# ORDER BY as JQL's keywords: any case, any whitespace between, and not part of a longer
# word (`orderby`, `border by`, `order byte` are no clause).
_ORDER_BY = re.compile(r"order\s+by(?![\w.\[\]-])", re.IGNORECASE)
_WORD = re.compile(r"[\w.\[\]-]")
QUOTES = ('"', "'")


class JQLSyntaxError(ValueError):
    """A filter whose strings can't be read: no place to cut it safely."""


def _string_end(jql: str, start: int) -> int:
    """The index just past the string opened at `start`."""
    quote, i = jql[start], start + 1
    while i < len(jql):
        char = jql[i]
        if char == "\\":
            i += 2
            continue
        if char == quote:
            return i + 1
        i += 1
    raise JQLSyntaxError(f"the string opened by {quote} at character {start + 1} is never closed")


def _order_by_positions(jql: str) -> list[int]:
    """Every place an ORDER BY stands outside strings and parentheses; reads the whole filter."""
    found: list[int] = []
    depth, i = 0, 0
    while i < len(jql):
        char = jql[i]
        if char in QUOTES:
            i = _string_end(jql, i)
            continue
        if char == "\\":  # an escaped character outside a string (`foo\ bar`)
            if i + 1 >= len(jql):
                raise JQLSyntaxError("the filter ends with a backslash that escapes nothing")
            i += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif (
            depth == 0
            and char in "oO"
            and (i == 0 or not _WORD.match(jql[i - 1]))
            and _ORDER_BY.match(jql, i)
        ):
            found.append(i)
        i += 1
    return found


def split_order_by(jql: str) -> tuple[str, str]:
    """The filter's conditions and its ORDER BY clause ("" when it has none), both stripped.

    Raises `JQLSyntaxError` when a string is never closed: there is no safe place to cut.
    """
    found = _order_by_positions(jql)
    if not found:
        return jql.strip(), ""
    return jql[: found[0]].strip(), jql[found[0] :].strip()
