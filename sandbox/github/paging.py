"""Requests, responses and paging: ETags and 304s, parameters, GitHub's `Link` headers."""

from __future__ import annotations

import hashlib
import json
import math
import urllib.parse
from collections.abc import Iterable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.github.formats import DEFAULT_PER_PAGE, DOCS, JSON_TYPE, MAX_PER_PAGE
from sandbox.github.shapes import Ctx


class NotFound(Exception):
    def __init__(self, docs: str = DOCS) -> None:
        self.docs = docs


class Invalid(Exception):
    def __init__(self, message: str, docs: str = DOCS) -> None:
        self.message, self.docs = message, docs


def _etag_matches(header: str, etag: str) -> bool:
    wanted = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in wanted or etag.removeprefix("W/") in wanted


def respond(request: Request, body: Any, status: int = 200, link: str | None = None) -> Response:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    etag = f'W/"{hashlib.sha256(data).hexdigest()}"'
    headers = {
        "Cache-Control": "private, max-age=60, s-maxage=60",
        "ETag": etag,
        "Vary": "Accept, Authorization",
    }
    if link:
        headers["Link"] = link
    if status == 200:
        condition = request.headers.get("if-none-match")
        if condition and _etag_matches(condition, etag):
            return Response(status_code=304, headers=headers)
    else:
        del headers["ETag"], headers["Cache-Control"]
    return Response(data, status, headers=headers, media_type=JSON_TYPE)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def choice(request: Request, name: str, allowed: Iterable[str], default: str, docs: str) -> str:
    value = request.query_params.get(name, default)
    allowed = tuple(allowed)
    if value not in allowed:
        raise Invalid(f"{name} must be one of: {', '.join(allowed)}", docs)
    return value


def paged(
    ctx: Ctx, request: Request, items: Sequence[Any], link_path: str, *, descending: bool = False
) -> tuple[list[Any], str | None]:
    """One page of `items` (reversed first when `descending`) and the `Link` header for the rest.

    `link_path` is where the real API sends the client next (`/repositories/{id}/...`); the
    request's own query is kept, with `page` moved to the end as GitHub writes it.
    """
    per_page = max(1, min(MAX_PER_PAGE, _int_param(request, "per_page", DEFAULT_PER_PAGE)))
    page = max(1, _int_param(request, "page", 1))
    total = len(items)
    start, stop = (page - 1) * per_page, page * per_page
    if descending:
        chunk = list(reversed(items[max(0, total - stop) : max(0, total - start)]))
    else:
        chunk = list(items[start:stop])
    last = max(1, math.ceil(total / per_page))
    if last == 1 and page == 1:
        return chunk, None
    query = [
        (k, v)
        for k, v in urllib.parse.parse_qsl(request.url.query, keep_blank_values=True)
        if k != "page"
    ]

    def href(number: int) -> str:
        return f"<{ctx.api}{link_path}?{urllib.parse.urlencode([*query, ('page', number)])}>"

    rels = []
    if page > 1:
        rels.append(f'{href(min(page - 1, last))}; rel="prev"')
    if page < last:
        rels.extend((f'{href(page + 1)}; rel="next"', f'{href(last)}; rel="last"'))
    if page > 1:
        rels.append(f'{href(1)}; rel="first"')
    return chunk, ", ".join(rels)
