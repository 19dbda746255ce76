"""GitHub's organisation teams, members and profiles of the planted identity cases, and token scopes.

Shapes and paging follow GitHub's REST reference ("List teams", "List team members",
"List organization members"): team endpoints need the `read:org` scope of a classic
token, which the `X-OAuth-Scopes` header of every authenticated answer lists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.github.formats import SERVICE, error_json, iso_time, node_id, stable_id
from sandbox.github.limits import signed_in_as
from sandbox.github.paging import NotFound, choice, paged, respond
from sandbox.github.shapes import Ctx, user_detail
from sandbox.http import SandboxState
from sandbox.world.identities import GithubTeam, Identities

TEAMS_DOCS = "https://docs.github.com/rest/teams/teams#list-teams"
MEMBERS_DOCS = "https://docs.github.com/rest/teams/members#list-team-members"
ORG_MEMBERS_DOCS = "https://docs.github.com/rest/orgs/members#list-organization-members"
READ_ORG = "read:org"


def _identities(ctx: Ctx, request: Request) -> Identities:
    ids = ctx.world.identities
    params = request.path_params
    if ids is not None and params.get("org_id") == ctx.index.org_id(ids.org):
        return ids  # the paging links' form: /organizations/{org_id}/teams
    if ids is None or ids.org.lower() != str(params.get("org", "")).lower():
        raise NotFound(TEAMS_DOCS)
    return ids


def _team_id(team: GithubTeam) -> int:
    return 4_000_000 + stable_id("team", team.slug) % 1_000_000


def _team_json(ctx: Ctx, ids: Identities, team: GithubTeam) -> dict[str, Any]:
    ident = _team_id(team)
    url = f"{ctx.api}/organizations/{ctx.index.org_id(ids.org)}/team/{ident}"
    return {
        "id": ident,
        "node_id": node_id("Team", ident),
        "url": url,
        "html_url": f"{ctx.web}/orgs/{ids.org}/teams/{team.slug}",
        "name": team.name,
        "slug": team.slug,
        "description": f"The {team.name} team",
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{url}/members{{/member}}",
        "repositories_url": f"{url}/repos",
        "type": "organization",
        "organization_id": ctx.index.org_id(ids.org),
        "parent": None,
    }


def _scoped(request: Request, state: SandboxState) -> Response | None:
    """403 without `read:org`, as GitHub answers a classic token that lacks it."""
    with state.lock:
        scopes = state.faults[SERVICE].oauth_scopes.split()
    if READ_ORG in scopes or "admin:org" in scopes:
        return None
    body = error_json(403, "Resource not accessible by personal access token", TEAMS_DOCS)
    return respond(request, body, 403)


def _list_teams(request: Request, ctx: Ctx, state: SandboxState) -> Response:
    ids = _identities(ctx, request)
    refused = _scoped(request, state)
    if refused is not None:
        return refused
    page, link = paged(ctx, request, ids.teams, f"/organizations/{ctx.index.org_id(ids.org)}/teams")
    return respond(request, [_team_json(ctx, ids, t) for t in page], link=link)


def _team(ctx: Ctx, request: Request) -> tuple[Identities, GithubTeam]:
    ids = _identities(ctx, request)
    slug = str(request.path_params.get("slug", "")).lower()
    ident = request.path_params.get("team_id")
    team = next((t for t in ids.teams if t.slug == slug or _team_id(t) == ident), None)
    if team is None:
        raise NotFound(MEMBERS_DOCS)
    return ids, team


def _get_team(request: Request, ctx: Ctx, state: SandboxState) -> Response:
    ids, team = _team(ctx, request)
    refused = _scoped(request, state)
    return refused or respond(request, _team_json(ctx, ids, team))


def _team_members(request: Request, ctx: Ctx, state: SandboxState) -> Response:
    ids, team = _team(ctx, request)
    refused = _scoped(request, state)
    if refused is not None:
        return refused
    role = choice(request, "role", ("member", "maintainer", "all"), "all", MEMBERS_DOCS)
    members = [] if role == "maintainer" else list(team.members)
    path = f"/orgs/{ids.org}/teams/{team.slug}/members"
    page, link = paged(ctx, request, members, path)
    return respond(request, [ctx.user(login) for login in page], link=link)


def _org_members(request: Request, ctx: Ctx, state: SandboxState) -> Response:
    ids = _identities(ctx, request)
    choice(request, "filter", ("2fa_disabled", "all"), "all", ORG_MEMBERS_DOCS)
    role = choice(request, "role", ("all", "admin", "member"), "all", ORG_MEMBERS_DOCS)
    members = [] if role == "admin" else ids.org_members
    page, link = paged(ctx, request, members, f"/orgs/{ids.org}/members")
    return respond(request, [ctx.user(login) for login in page], link=link)


def _user(
    request: Request, ctx: Ctx, state: SandboxState, fallback: Callable[..., Response]
) -> Response:
    """A planted account's profile (its own name and public e-mail), else the world's."""
    ids = ctx.world.identities
    extra = ids.github_profiles.get(request.path_params["login"].lower()) if ids else None
    if extra is None or extra.github is None:
        return fallback(request, ctx)
    body = user_detail(ctx, extra.github)
    body |= {"name": extra.github_name, "email": extra.github_email}
    if extra.case == "service_account":
        body |= {"name": extra.name, "bio": "Machine user for deployments", "company": None}
    body["updated_at"] = iso_time(ctx.world.start)
    return respond(request, body)


def routes(
    endpoint: Callable[..., Callable[[Request], Any]],
    state: SandboxState,
    named_user: Callable[..., Response],
) -> list[Route]:
    """The routes, made with the service's `endpoint(handler, *extra)` wrapper."""
    return [
        Route("/orgs/{org}/teams", endpoint(_list_teams, state)),
        Route("/organizations/{org_id:int}/teams", endpoint(_list_teams, state)),
        Route("/orgs/{org}/teams/{slug}", endpoint(_get_team, state)),
        Route("/orgs/{org}/teams/{slug}/members", endpoint(_team_members, state)),
        # the teams' own `url`, where clients follow them
        Route("/organizations/{org_id:int}/team/{team_id:int}", endpoint(_get_team, state)),
        Route(
            "/organizations/{org_id:int}/team/{team_id:int}/members",
            endpoint(_team_members, state),
        ),
        Route("/orgs/{org}/members", endpoint(_org_members, state)),
        Route("/users/{login}", endpoint(_user, state, named_user)),
    ]


class ScopesMiddleware:
    """Stamps `X-OAuth-Scopes` (the token's scopes; fault `oauth_scopes`) on authenticated answers."""

    def __init__(self, app: ASGIApp, *, state: SandboxState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        # GitHub lists scopes for classic tokens only: not for an App's installation token
        authorised = signed_in_as(headers, self.state) == "token"
        with self.state.lock:
            scopes = ", ".join(self.state.faults[SERVICE].oauth_scopes.split())

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start" and authorised:
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-oauth-scopes", scopes.encode()),
                    (b"x-accepted-oauth-scopes", b"repo"),
                ]
            await send(message)

        await self.app(scope, receive, stamped)
