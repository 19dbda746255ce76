"""Jira's user search, the caller's permissions and an issue count: what `discover` and `doctor` ask.

Cloud finds users by `query` (a prefix of a word of the display name or e-mail) at
`user/search` and lists every user at `users/search`; Server and Data Center take
`username` instead. Cloud applies each user's profile visibility: a hidden e-mail is
left out of the answer, as `sandbox.world.identities` plants it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from sandbox.jira import jql
from sandbox.jira.protocol import ApiError, int_param, json_body

if TYPE_CHECKING:
    from sandbox.jira.service import JiraService

PERMISSIONS = ("BROWSE_PROJECTS", "BROWSE_USERS", "USER_PICKER")


def _users(service: JiraService, request: Request) -> tuple[list[dict[str, Any]], bool]:
    view = service.view(request, request.path_params["version"])
    ids = view.data.world.identities
    world = view.data.world
    if ids is not None:
        users = ids.jira_users(world)
    else:
        users = [
            {
                "accountId": p.jira_account_id,
                "displayName": p.name,
                "emailAddress": p.email,
                "accountType": "atlassian",
            }
            for p in world.people
        ]
    shaped = []
    for u in users:
        body: dict[str, Any] = {
            "self": f"{view.api}/user?accountId={u['accountId']}",
            "accountId": u["accountId"],
            "accountType": u["accountType"],
            "displayName": u["displayName"],
            "active": True,
        }
        if not view.cloud:
            body |= {"name": u["accountId"], "key": u["accountId"]}
            body["self"] = f"{view.api}/user?username={u['accountId']}"
            body.pop("accountType")
        if u["emailAddress"] and (not view.cloud or u["accountType"] == "atlassian"):
            body["emailAddress"] = u["emailAddress"]
        elif not view.cloud:
            body["emailAddress"] = f"{u['accountId']}@unknown.sandbox.example"
        shaped.append(body)
    return shaped, view.cloud


def _page(request: Request, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start = int_param(request.query_params.get("startAt"), 0, "startAt")
    count = int_param(request.query_params.get("maxResults"), 50, "maxResults", 1)
    return users[start : start + min(count, 1000)]


def _matches(user: dict[str, Any], query: str) -> bool:
    words = [*user["displayName"].lower().split(), user.get("emailAddress", "").lower()]
    query = query.lower().strip()
    return query in user["displayName"].lower() or any(w.startswith(query) for w in words if w)


async def search(service: JiraService, request: Request) -> Any:
    users, cloud = _users(service, request)
    params = request.query_params
    query = params.get("query") if cloud else (params.get("username") or params.get("query"))
    account = params.get("accountId")
    if not query and not account:
        raise ApiError(
            400,
            "The query parameter 'query' or 'accountId' is required."
            if cloud
            else "The username query parameter was not provided",
        )
    found = [
        u
        for u in users
        if (account and u["accountId"] == account) or (query and _matches(u, query))
    ]
    return _page(request, found)


async def all_users(service: JiraService, request: Request) -> Any:
    users, cloud = _users(service, request)
    if not cloud:
        raise ApiError(404, f"null for uri: {request.url}")
    return _page(request, users)


async def my_permissions(service: JiraService, request: Request) -> Any:
    service.view(request, request.path_params["version"])  # a version Jira does not speak: 404
    wanted = [p for p in request.query_params.get("permissions", "").split(",") if p]
    if not wanted:
        raise ApiError(400, "The 'permissions' query parameter is required.")
    return {
        "permissions": {
            key: {
                "id": str(10 + k),
                "key": key,
                "name": key.replace("_", " ").title(),
                "type": "PROJECT" if key.startswith("BROWSE_P") else "GLOBAL",
                "description": "",
                "havePermission": key in PERMISSIONS,
            }
            for k, key in enumerate(wanted)
        }
    }


async def count_issues(service: JiraService, request: Request) -> Any:
    """Cloud's `search/approximate-count`: how many issues a JQL matches, without reading them."""
    if not service.state.jira_cloud:
        raise ApiError(404, f"null for uri: {request.url}")
    view = service.view(request, request.path_params["version"])
    text = (await json_body(request)).get("jql") or ""
    return {"count": len(view.snap.search(jql.parse(text)))}


def routes(route: Callable[..., Route], api: str) -> list[Route]:
    return [
        route(f"{api}/search/approximate-count", count_issues, ("POST",)),
        route(f"{api}/user/search", search),
        route(f"{api}/users/search", all_users),
        route(f"{api}/users", all_users),
        route(f"{api}/mypermissions", my_permissions),
    ]
