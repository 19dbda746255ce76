"""Opaque, stable cursors and the slicing of one connection (`first`/`last`/`after`/`before`).

A cursor is base64 of `cursor:v2:` and the JSON of the item's sort key, the shape of
GitHub's own (`Y3Vyc29yOnYy...`). Pages are found by key, not by position: an item
that changes while a client pages (a pull request updated, so it sorts elsewhere) is
never served twice on one walk, and new items do not shift the pages after the cursor.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

PREFIX = "cursor:v2:"


def encode(key: Sequence[Any]) -> str:
    return base64.b64encode(
        (PREFIX + json.dumps(list(key), separators=(",", ":"))).encode()
    ).decode()


def decode(cursor: str) -> list[Any]:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
        if not raw.startswith(PREFIX):
            raise ValueError(cursor)
        key = json.loads(raw.removeprefix(PREFIX))
        if not isinstance(key, list):
            raise ValueError(cursor)
        return key
    except (ValueError, UnicodeDecodeError):
        raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.") from None


@dataclass
class Page:
    items: list[Any]
    keys: list[list[Any]]
    total: int
    has_next: bool
    has_previous: bool


def page(
    items: Sequence[Any],
    key: Callable[[Any], list[Any]],
    args: dict[str, Any],
    *,
    reverse: bool,
    presorted: bool = False,
) -> Page:
    """One page of `items` by `key` (`reverse`: served descending).

    `presorted`: `items` are already ascending by `key`; the cursor is then found by
    bisection, so a page of a long list costs a few key computations, not one per item.
    """
    ordered = list(items) if presorted else sorted(items, key=key)
    lo, hi = 0, len(ordered)
    if args.get("after") is not None:
        bound = decode(args["after"])
        if reverse:
            hi = min(hi, bisect.bisect_left(ordered, bound, key=key))
        else:
            lo = max(lo, bisect.bisect_right(ordered, bound, key=key))
    if args.get("before") is not None:
        bound = decode(args["before"])
        if reverse:
            lo = max(lo, bisect.bisect_right(ordered, bound, key=key))
        else:
            hi = min(hi, bisect.bisect_left(ordered, bound, key=key))
    window = ordered[lo:hi] if lo < hi else []
    # what lies beyond the window on either side, in the served order
    before_window, after_window = (len(ordered) - hi, lo) if reverse else (lo, len(ordered) - hi)
    if reverse:
        window.reverse()
    has_previous, has_next = before_window > 0 and args.get("after") is not None, False
    has_next = after_window > 0 and args.get("before") is not None
    first, last = args.get("first"), args.get("last")
    if first is not None:
        has_next = has_next or len(window) > first
        window = window[:first]
    if last is not None:
        has_previous = has_previous or len(window) > last
        window = window[max(0, len(window) - last) :]
    return Page(
        items=window,
        keys=[key(item) for item in window],
        total=len(items),
        has_next=has_next,
        has_previous=has_previous,
    )


def connection(found: Page, node: Callable[[Any], Any]) -> dict[str, Any]:
    """The connection object: `totalCount`, `pageInfo`, `nodes` and `edges`."""
    nodes = [node(item) for item in found.items]
    cursors = [encode(k) for k in found.keys]
    return {
        "totalCount": found.total,
        "nodes": nodes,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
        "pageInfo": {
            "hasNextPage": found.has_next,
            "hasPreviousPage": found.has_previous,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }
