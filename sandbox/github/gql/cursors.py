"""Opaque, stable cursors and the slicing of one connection (`first`/`last`/`after`/`before`).

A cursor is base64 of `cursor:v2:` and the JSON of the item's sort key, the shape of
GitHub's own (`Y3Vyc29yOnYy...`). Pages are found by key, not by position: an item
that changes while a client pages (a pull request updated, so it sorts elsewhere) is
never served twice on one walk, and new items do not shift the pages after the cursor.
"""

from __future__ import annotations

import base64
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
    items: Sequence[Any], key: Callable[[Any], list[Any]], args: dict[str, Any], *, reverse: bool
) -> Page:
    """One page of `items` (ascending by `key`; `reverse` serves them descending)."""
    keyed = [(key(item), item) for item in items]
    ordered = sorted(keyed, key=lambda pair: pair[0], reverse=reverse)

    def beyond(k: list[Any], bound: list[Any]) -> bool:
        return k < bound if reverse else k > bound

    window = ordered
    has_previous = has_next = False
    if args.get("after") is not None:
        bound = decode(args["after"])
        kept = [pair for pair in window if beyond(pair[0], bound)]
        has_previous = len(kept) < len(window)
        window = kept
    if args.get("before") is not None:
        bound = decode(args["before"])
        kept = [pair for pair in window if beyond(bound, pair[0])]
        has_next = len(kept) < len(window)
        window = kept
    first, last = args.get("first"), args.get("last")
    if first is not None:
        has_next = has_next or len(window) > first
        window = window[:first]
    if last is not None:
        has_previous = has_previous or len(window) > last
        window = window[max(0, len(window) - last) :]
    return Page(
        items=[item for _, item in window],
        keys=[k for k, _ in window],
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
