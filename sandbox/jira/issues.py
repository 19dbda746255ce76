"""Jira's search and per-issue endpoints: JQL search (Cloud and Server), one issue, changelogs, comments, worklogs."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from sandbox.jira import jql
from sandbox.jira.data import Snapshot
from sandbox.jira.protocol import (
    ApiError,
    int_param,
    json_body,
    next_page_token,
    page_offset,
    select_fields,
    words,
)
from sandbox.jira.schema import (
    BULK_FIELDS_MAX,
    BULK_ISSUES_MAX,
    BULK_PAGE_DEFAULT,
    BULK_PAGE_MAX,
    CHANGE_FIELDS,
    CHANGELOG_PAGE_DEFAULT,
    CHANGELOG_PAGE_MAX,
    COMMENTS_DEFAULT,
    COMMENTS_MAX,
    FIELD_NAMES,
    ISSUE_CHANGELOG_CAP,
    REMOVED_SEARCH,
    SEARCH_JQL_CHANGELOG_CAP,
    SEARCH_JQL_DEFAULT,
    SEARCH_JQL_MAX_FIELDS,
    SEARCH_JQL_MAX_IDS,
    SERVER_SEARCH_DEFAULT,
    SERVER_SEARCH_MAX,
    UNBOUNDED,
    WORKLOGS_DEFAULT,
    WORKLOGS_MAX,
)

if TYPE_CHECKING:
    from sandbox.jira.service import JiraService


async def search_jql(service: JiraService, request: Request) -> Any:
    if not service.state.jira_cloud:
        raise ApiError(404, f"null for uri: {request.url}")
    view = service.view(request, request.path_params["version"])
    params = await json_body(request) if request.method == "POST" else {}
    query_params = request.query_params
    text = params.get("jql") if request.method == "POST" else query_params.get("jql")
    fields = words(
        params.get("fields") if request.method == "POST" else query_params.getlist("fields")
    )
    expand = frozenset(
        w.lower()
        for w in words(
            params.get("expand") if request.method == "POST" else query_params.getlist("expand")
        )
    )
    size = int_param(
        params.get("maxResults") if request.method == "POST" else query_params.get("maxResults"),
        SEARCH_JQL_DEFAULT,
        "maxResults",
    )
    token = (
        params.get("nextPageToken")
        if request.method == "POST"
        else query_params.get("nextPageToken")
    )
    query = jql.parse(text or "")
    if not query.bounded:
        raise ApiError(400, UNBOUNDED)
    selected = select_fields(fields, "id")
    cap = (
        SEARCH_JQL_MAX_IDS
        if selected is None or set(selected) <= {"key"}
        else SEARCH_JQL_MAX_FIELDS
    )
    size = min(size or SEARCH_JQL_DEFAULT, cap)
    digest = zlib.crc32((text or "").encode())
    start = page_offset(token, digest)
    ids = view.snap.search(query)
    page = ids[start : start + size]
    body: dict[str, Any] = {
        "issues": [view.issue(n, selected, expand, SEARCH_JQL_CHANGELOG_CAP) for n in page]
    }
    if "names" in expand:
        body["names"] = {f: FIELD_NAMES[f] for f in (selected or []) if f in FIELD_NAMES}
    if start + size < len(ids):
        body["nextPageToken"] = next_page_token(start + size, digest)
        body["isLast"] = False
    else:
        body["isLast"] = True
    return body


async def search_classic(service: JiraService, request: Request) -> Any:
    if service.state.jira_cloud:
        raise ApiError(410, REMOVED_SEARCH)
    view = service.view(request, request.path_params["version"])
    post = request.method == "POST"
    params = await json_body(request) if post else {}
    query_params = request.query_params
    text = params.get("jql") if post else query_params.get("jql")
    fields = words(params.get("fields") if post else query_params.getlist("fields"))
    expand = frozenset(
        w.lower() for w in words(params.get("expand") if post else query_params.getlist("expand"))
    )
    start = int_param(params.get("startAt") if post else query_params.get("startAt"), 0, "startAt")
    size = min(
        int_param(
            params.get("maxResults") if post else query_params.get("maxResults"),
            SERVER_SEARCH_DEFAULT,
            "maxResults",
        ),
        SERVER_SEARCH_MAX,
    )
    query = jql.parse(text or "")
    selected = select_fields(fields, "*navigable") or []
    ids = view.snap.search(query)
    page = ids[start : start + size]
    body: dict[str, Any] = {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": size,
        "total": len(ids),
        "issues": [view.issue(n, selected, expand, None) for n in page],
    }
    if "names" in expand:
        body["names"] = {f: FIELD_NAMES[f] for f in selected if f in FIELD_NAMES}
    return body


async def issue(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    n = view.data.issue_index(request.path_params["key"], view.snap.visible)
    selected = select_fields(words(request.query_params.getlist("fields")), "*all") or []
    expand = frozenset(w.lower() for w in words(request.query_params.getlist("expand")))
    return view.issue(n, selected, expand, ISSUE_CHANGELOG_CAP if view.cloud else None)


async def changelog(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    if not view.cloud:
        raise ApiError(404, f"null for uri: {request.url}")
    n = view.data.issue_index(request.path_params["key"], view.snap.visible)
    start = int_param(request.query_params.get("startAt"), 0, "startAt")
    size = min(
        int_param(request.query_params.get("maxResults"), CHANGELOG_PAGE_DEFAULT, "maxResults")
        or CHANGELOG_PAGE_DEFAULT,
        CHANGELOG_PAGE_MAX,
    )
    histories = view.snap.histories(n)
    page = histories[start : start + size]
    last = start + size >= len(histories)
    url = f"{view.api}/issue/{request.path_params['key']}/changelog"
    body: dict[str, Any] = {
        "self": f"{url}?startAt={start}&maxResults={size}",
        "maxResults": size,
        "startAt": start,
        "total": len(histories),
        "isLast": last,
        "values": [view.history(h) for h in page],
    }
    if not last:
        body["nextPage"] = f"{url}?startAt={start + size}&maxResults={size}"
    return body


async def bulk_changelog(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    if not view.cloud:
        raise ApiError(404, f"null for uri: {request.url}")
    body = await json_body(request)
    wanted = body.get("issueIdsOrKeys")
    if not isinstance(wanted, list) or not wanted:
        raise ApiError(400, "issueIdsOrKeys must contain at least one issue ID or key.")
    if len(wanted) > BULK_ISSUES_MAX:
        raise ApiError(
            400,
            f"issueIdsOrKeys must not contain more than {BULK_ISSUES_MAX} issue IDs or keys.",
        )
    field_ids = body.get("fieldIds") or []
    if not isinstance(field_ids, list) or len(field_ids) > BULK_FIELDS_MAX:
        raise ApiError(400, f"fieldIds must not contain more than {BULK_FIELDS_MAX} field IDs.")
    size = int_param(body.get("maxResults"), BULK_PAGE_DEFAULT, "maxResults", 1)
    if size > BULK_PAGE_MAX:
        raise ApiError(400, f"maxResults must not be greater than {BULK_PAGE_MAX}.")
    snap = view.snap
    request_key = ("bulk", tuple(str(w) for w in wanted), tuple(str(f) for f in field_ids))
    digest = zlib.crc32(repr(request_key).encode())
    start = page_offset(body.get("nextPageToken"), digest)
    entries = snap.cached(
        request_key,
        lambda: _bulk_entries(snap, [str(w) for w in wanted], {str(f) for f in field_ids}),
    )
    page = entries[start : start + size]
    grouped: dict[int, list[dict[str, Any]]] = {}
    for _, n, history, items in page:
        rendered = view.history(history)
        if items is not None:
            rendered["items"] = [view.change(i) for i in items]
        grouped.setdefault(n, []).append(rendered)
    out: dict[str, Any] = {
        "issueChangeLogs": [
            {"issueId": view.data.issues[n].id, "changeHistories": h} for n, h in grouped.items()
        ]
    }
    if start + size < len(entries):
        out["nextPageToken"] = next_page_token(start + size, digest)
    return out


def _bulk_entries(snap: Snapshot, wanted: list[str], field_ids: set[str]) -> list[Any]:
    """Every visible history of the issues, oldest first then smallest issue id, as the docs order them."""
    data = snap.data
    found: set[int] = set()
    for token in wanted:
        n = data.by_id.get(token, data.by_key.get(token.upper()))
        if n is not None and n < snap.visible:
            found.add(n)
    entries = []
    for n in found:
        issue_id = data.issues[n].id
        id_sort = int(issue_id) if issue_id.isdigit() else 0
        for history, ts in zip(snap.histories(n), data.timeline(n).history_ts, strict=False):
            items = None
            if field_ids:
                items = [
                    i
                    for i in history.items
                    if CHANGE_FIELDS.get(i.field.lower(), ("", i.field))[1] in field_ids
                ]
                if not items:
                    continue
            entries.append((ts, id_sort, issue_id, n, history, items))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    return [(ts, n, history, items) for ts, _, _, n, history, items in entries]


async def comments(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    n = view.data.issue_index(request.path_params["key"], view.snap.visible)
    issue = view.data.issues[n]
    comments = view.snap.comments(n)
    order = request.query_params.get("orderBy")
    if order not in (None, "created", "+created", "-created"):
        raise ApiError(
            400, "The orderBy parameter only accepts 'created', '+created' and '-created'."
        )
    if order == "-created":
        comments = comments[::-1]
    start = int_param(request.query_params.get("startAt"), 0, "startAt")
    default = COMMENTS_DEFAULT if view.cloud else max(len(comments), 1)
    size = min(
        int_param(request.query_params.get("maxResults"), default, "maxResults") or default,
        COMMENTS_MAX,
    )
    page = comments[start : start + size]
    return {
        "comments": [view.comment(issue, c) for c in page],
        "maxResults": size,
        "total": len(comments),
        "startAt": start,
    }


async def worklogs(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    n = view.data.issue_index(request.path_params["key"], view.snap.visible)
    issue = view.data.issues[n]
    worklogs = view.snap.worklogs(n)
    after = request.query_params.get("startedAfter")
    before = request.query_params.get("startedBefore")
    if after:
        worklogs = [
            w
            for w in worklogs
            if w.started.timestamp() * 1000 >= int_param(after, 0, "startedAfter")
        ]
    if before:
        worklogs = [
            w
            for w in worklogs
            if w.started.timestamp() * 1000 < int_param(before, 0, "startedBefore")
        ]
    start = int_param(request.query_params.get("startAt"), 0, "startAt")
    size = min(
        int_param(request.query_params.get("maxResults"), WORKLOGS_DEFAULT, "maxResults")
        or WORKLOGS_DEFAULT,
        WORKLOGS_MAX,
    )
    page = worklogs[start : start + size]
    return {
        "startAt": start,
        "maxResults": size,
        "total": len(worklogs),
        "worklogs": [view.worklog(issue, w) for w in page],
    }
