"""The GitHub endpoints and the sub-application that serves them (`app`)."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.github import teams
from sandbox.github.apps import (
    Refused,
    app_json,
    app_of,
    app_rate_limit,
    installation_json,
    token_json,
)
from sandbox.github.formats import SERVICE, error_json
from sandbox.github.gql.endpoint import PATHS as GRAPHQL_PATHS
from sandbox.github.gql.endpoint import graphql_endpoint
from sandbox.github.index import Pull, RepoInfo, Worlds
from sandbox.github.limits import (
    APP_BUDGET,
    GRAPHQL_APP_BUDGET,
    RateLimitMiddleware,
    auth,
    error_body,
    graphql_budget,
    rate_limit_body,
    rest_budget,
    signed_in_as,
)
from sandbox.github.paging import Invalid, NotFound, choice, paged, respond
from sandbox.github.pulls import (
    commits_json,
    issue_events,
    issue_json,
    pull_full,
    pull_simple,
    review_json,
    timeline_json,
)
from sandbox.github.shapes import (
    Ctx,
    authenticated_user,
    organization,
    repo_full,
    repo_listed,
    user_detail,
)
from sandbox.http import SandboxState, service_app

PULLS_DOCS = "https://docs.github.com/rest/pulls/pulls"
REVIEWS_DOCS = "https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request"
ISSUES_DOCS = "https://docs.github.com/rest/issues/issues"
EVENTS_DOCS = "https://docs.github.com/rest/issues/events#list-issue-events"
TIMELINE_DOCS = "https://docs.github.com/rest/issues/timeline#list-timeline-events-for-an-issue"
REPOS_DOCS = "https://docs.github.com/rest/repos/repos"
USERS_DOCS = "https://docs.github.com/rest/users/users#get-a-user"
ORGS_DOCS = "https://docs.github.com/rest/orgs/orgs#get-an-organization"


def _base_urls(request: Request) -> tuple[str, str]:
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return origin + request.scope.get("root_path", ""), origin


def _repo_of(ctx: Ctx, request: Request, docs: str) -> RepoInfo:
    params = request.path_params
    if "repo_id" in params:
        info = ctx.index.repos_by_id.get(params["repo_id"])
    else:
        info = ctx.index.repos.get(f"{params['owner']}/{params['repo']}".lower())
    if info is None:
        raise NotFound(docs)
    return info


def _pull_of(ctx: Ctx, request: Request, docs: str) -> Pull:
    info = _repo_of(ctx, request, docs)
    pull = ctx.view.pull(info, request.path_params["number"])
    if pull is None:
        raise NotFound(docs)
    return pull


def _repo_link(info: RepoInfo, rest: str) -> str:
    return f"/repositories/{info.repo.id}{rest}"


def _get_user(request: Request, ctx: Ctx, state: SandboxState) -> Response:
    if signed_in_as(request.headers, state) == "app":  # an installation is nobody
        docs = "https://docs.github.com/rest/users/users#get-the-authenticated-user"
        return respond(
            request, error_json(403, "Resource not accessible by integration", docs), 403
        )
    return respond(request, authenticated_user(ctx))


def _get_named_user(request: Request, ctx: Ctx) -> Response:
    login = request.path_params["login"].lower()
    known = ctx.index.logins.get(login) or ctx.index.orgs.get(login)
    if known is None:
        raise NotFound(USERS_DOCS)
    return respond(request, user_detail(ctx, known))


def _get_org(request: Request, ctx: Ctx) -> Response:
    org = ctx.index.orgs.get(request.path_params["org"].lower())
    if org is None:
        raise NotFound(ORGS_DOCS)
    return respond(request, organization(ctx, org))


_REPO_SORT_KEYS: dict[str, Callable[[Ctx, RepoInfo], Any]] = {
    "created": lambda ctx, info: info.created_at,
    "updated": lambda ctx, info: ctx.view.pushed_at(info),
    "pushed": lambda ctx, info: ctx.view.pushed_at(info),
    "full_name": lambda ctx, info: info.repo.full_name.lower(),
}


def _list_repos(
    request: Request, ctx: Ctx, repos: list[RepoInfo], link_path: str, sort_default: str
) -> Response:
    docs = f"{REPOS_DOCS}#list-organization-repositories"
    kind = choice(
        request,
        "type",
        ("all", "public", "private", "forks", "sources", "member", "internal", "owner"),
        "all",
        docs,
    )
    visibility = choice(request, "visibility", ("all", "public", "private"), "all", docs)
    if kind in ("public", "forks", "internal", "owner") or visibility == "public":
        # every sandbox repository is a private, non-fork repository of an organisation
        repos = []
    sort = choice(request, "sort", _REPO_SORT_KEYS, sort_default, docs)
    direction = choice(
        request, "direction", ("asc", "desc"), "asc" if sort == "full_name" else "desc", docs
    )
    key = _REPO_SORT_KEYS[sort]
    ordered = sorted(repos, key=lambda info: (key(ctx, info), info.repo.id))
    page, link = paged(ctx, request, ordered, link_path, descending=direction == "desc")
    return respond(request, [repo_listed(ctx, info) for info in page], link=link)


def _get_org_repos(request: Request, ctx: Ctx) -> Response:
    params = request.path_params
    if "org_id" in params:
        org = next(
            (o for o in ctx.index.orgs.values() if ctx.index.org_id(o) == params["org_id"]), None
        )
    else:
        org = ctx.index.orgs.get(params["org"].lower())
    if org is None:
        raise NotFound(ORGS_DOCS)
    repos = [info for info in ctx.index.repos.values() if info.owner.lower() == org.lower()]
    return _list_repos(
        request, ctx, repos, f"/organizations/{ctx.index.org_id(org)}/repos", "created"
    )


def _get_user_repos(request: Request, ctx: Ctx) -> Response:
    return _list_repos(request, ctx, list(ctx.index.repos.values()), "/user/repos", "full_name")


def _get_repo(request: Request, ctx: Ctx) -> Response:
    return respond(
        request, repo_full(ctx, _repo_of(ctx, request, f"{REPOS_DOCS}#get-a-repository"))
    )


def _get_pulls(request: Request, ctx: Ctx) -> Response:
    docs = f"{PULLS_DOCS}#list-pull-requests"
    info = _repo_of(ctx, request, docs)
    state = choice(request, "state", ("open", "closed", "all"), "open", docs)
    sort = choice(
        request, "sort", ("created", "updated", "popularity", "long-running"), "created", docs
    )
    direction = choice(
        request, "direction", ("asc", "desc"), "desc" if sort == "created" else "asc", docs
    )
    pulls = ctx.view.listing(info, state, sort)
    head, base = request.query_params.get("head"), request.query_params.get("base")
    if head:
        pulls = [p for p in pulls if f"{p.info.owner}:{p.pr.branch}" == head or p.pr.branch == head]
    if base and base != "main":
        pulls = []
    page, link = paged(
        ctx, request, pulls, _repo_link(info, "/pulls"), descending=direction == "desc"
    )
    return respond(request, [pull_simple(ctx, p) for p in page], link=link)


def _get_pull(request: Request, ctx: Ctx) -> Response:
    return respond(
        request, pull_full(ctx, _pull_of(ctx, request, f"{PULLS_DOCS}#get-a-pull-request"))
    )


def _get_reviews(request: Request, ctx: Ctx) -> Response:
    pull = _pull_of(ctx, request, REVIEWS_DOCS)
    link_path = _repo_link(pull.info, f"/pulls/{pull.pr.number}/reviews")
    page, link = paged(ctx, request, pull.reviews, link_path)
    return respond(request, [review_json(ctx, pull, r) for r in page], link=link)


def _get_commits(request: Request, ctx: Ctx) -> Response:
    pull = _pull_of(ctx, request, f"{PULLS_DOCS}#list-commits-on-a-pull-request")
    link_path = _repo_link(pull.info, f"/pulls/{pull.pr.number}/commits")
    page, link = paged(ctx, request, commits_json(ctx, pull), link_path)
    return respond(request, page, link=link)


def _get_issues(request: Request, ctx: Ctx) -> Response:
    docs = f"{ISSUES_DOCS}#list-repository-issues"
    info = _repo_of(ctx, request, docs)
    state = choice(request, "state", ("open", "closed", "all"), "open", docs)
    sort = choice(request, "sort", ("created", "updated", "comments"), "created", docs)
    direction = choice(request, "direction", ("asc", "desc"), "desc", docs)
    pulls: Sequence[Pull] = ctx.view.listing(
        info, state, "updated" if sort == "updated" else "created"
    )
    since_raw = request.query_params.get("since")
    if since_raw:
        try:
            since = dt.datetime.fromisoformat(since_raw.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(
                "since must be an ISO 8601 timestamp: YYYY-MM-DDTHH:MM:SSZ", docs
            ) from None
        since = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        if sort == "updated":
            pulls = pulls[bisect.bisect_left(pulls, since, key=lambda p: p.updated) :]
        else:
            pulls = [p for p in pulls if p.updated >= since]
    labels = [name for name in request.query_params.get("labels", "").split(",") if name]
    if labels:
        pulls = [p for p in pulls if set(labels) <= set(p.pr.labels)]
    creator = request.query_params.get("creator")
    if creator:
        pulls = [p for p in pulls if p.pr.author.lower() == creator.lower()]
    page, link = paged(
        ctx, request, pulls, _repo_link(info, "/issues"), descending=direction == "desc"
    )
    return respond(request, [issue_json(ctx, p) for p in page], link=link)


def _get_issue(request: Request, ctx: Ctx) -> Response:
    pull = _pull_of(ctx, request, f"{ISSUES_DOCS}#get-an-issue")
    return respond(request, issue_json(ctx, pull, single=True))


def _get_issue_events(request: Request, ctx: Ctx) -> Response:
    pull = _pull_of(ctx, request, EVENTS_DOCS)
    events = [json_ for _, _, json_ in sorted(issue_events(ctx, pull), key=lambda e: (e[0], e[1]))]
    link_path = _repo_link(pull.info, f"/issues/{pull.pr.number}/events")
    page, link = paged(ctx, request, events, link_path)
    return respond(request, page, link=link)


def _get_timeline(request: Request, ctx: Ctx) -> Response:
    pull = _pull_of(ctx, request, TIMELINE_DOCS)
    link_path = _repo_link(pull.info, f"/issues/{pull.pr.number}/timeline")
    page, link = paged(ctx, request, timeline_json(ctx, pull), link_path)
    return respond(request, page, link=link)


def _get_rate_limit(request: Request, ctx: Ctx, state: SandboxState) -> Response:
    with state.lock:
        body = rate_limit_body(
            rest_budget(request.headers, state), graphql_budget(request.headers, state), time.time()
        )
    return respond(request, body)


APPS_DOCS = "https://docs.github.com/rest/apps/apps"


def _app_endpoint(worlds: Worlds, handler: Callable[..., Response]) -> Callable[[Request], Any]:
    """The App's own endpoints: signed in with the App's JWT, checked GitHub's way."""

    async def endpoint(request: Request) -> Response:
        state = worlds.state
        app = app_of(state)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise Refused("A JSON web token could not be decoded")
            app.check_jwt(token.strip(), time.time())
        except Refused as refused:
            return respond(request, error_json(401, str(refused)), 401)
        api, web = _base_urls(request)
        ctx = Ctx(api=api, web=web, view=worlds.view(), malformed=False)
        wanted = request.path_params.get("installation_id", app.installation_id)
        if wanted != app.installation_id:
            return respond(request, error_json(404, "Not Found", APPS_DOCS), 404)
        with state.lock:  # the App's tokens are shared by every request
            return handler(request, ctx, app)

    return endpoint


def _get_app(request: Request, ctx: Ctx, app: Any) -> Response:
    return respond(request, app_json(app, ctx.user(app.owner), ctx.web))


def _get_installations(request: Request, ctx: Ctx, app: Any) -> Response:
    return respond(request, [installation_json(app, ctx.user(app.owner), ctx.api, ctx.web)])


def _get_installation(request: Request, ctx: Ctx, app: Any) -> Response:
    return respond(request, installation_json(app, ctx.user(app.owner), ctx.api, ctx.web))


def _post_access_token(request: Request, ctx: Ctx, app: Any) -> Response:
    token, expires = app.issue(time.time())
    return respond(request, token_json(token, expires), 201)


def _endpoint(
    worlds: Worlds, handler: Callable[..., Response], *extra: Any
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        state = worlds.state
        with state.lock:
            malformed = state.faults[SERVICE].malformed
        api, web = _base_urls(request)
        ctx = Ctx(api=api, web=web, view=worlds.view(), malformed=malformed)
        try:
            return handler(request, ctx, *extra)
        except NotFound as missing:
            return respond(request, error_json(404, "Not Found", missing.docs), 404)
        except Invalid as invalid:
            body = error_json(
                422,
                "Validation Failed",
                invalid.docs,
                errors=[{"message": invalid.message, "code": "invalid"}],
            )
            return respond(request, body, 422)

    return endpoint


def _not_found(request: Request) -> Response:
    return respond(request, error_json(404, "Not Found"), 404)


def routes(worlds: Worlds) -> list[Route]:
    repo_scoped: list[tuple[str, Callable[..., Response]]] = [
        ("", _get_repo),
        ("/pulls", _get_pulls),
        ("/pulls/{number:int}", _get_pull),
        ("/pulls/{number:int}/reviews", _get_reviews),
        ("/pulls/{number:int}/commits", _get_commits),
        ("/issues", _get_issues),
        ("/issues/{number:int}", _get_issue),
        ("/issues/{number:int}/events", _get_issue_events),
        ("/issues/{number:int}/timeline", _get_timeline),
    ]
    routes = [
        *teams.routes(functools.partial(_endpoint, worlds), worlds.state, _get_named_user),
        Route("/user", _endpoint(worlds, _get_user, worlds.state)),
        Route("/user/repos", _endpoint(worlds, _get_user_repos)),
        Route("/users/{login}", _endpoint(worlds, _get_named_user)),
        Route("/rate_limit", _endpoint(worlds, _get_rate_limit, worlds.state)),
        Route("/orgs/{org}", _endpoint(worlds, _get_org)),
        Route("/orgs/{org}/repos", _endpoint(worlds, _get_org_repos)),
        Route("/organizations/{org_id:int}/repos", _endpoint(worlds, _get_org_repos)),
    ]
    app_routes: list[tuple[str, Callable[..., Response], list[str]]] = [
        ("/app", _get_app, ["GET"]),
        ("/app/installations", _get_installations, ["GET"]),
        ("/app/installations/{installation_id:int}", _get_installation, ["GET"]),
        (
            "/app/installations/{installation_id:int}/access_tokens",
            _post_access_token,
            ["POST"],
        ),
    ]
    for path, handler, methods in app_routes:
        routes.append(Route(path, _app_endpoint(worlds, handler), methods=methods))

    async def graphql(request: Request) -> Response:
        return await graphql_endpoint(request, worlds)

    for path in GRAPHQL_PATHS:
        routes.append(Route(path, graphql, methods=["POST"]))
    for suffix, handler in repo_scoped:
        endpoint = _endpoint(worlds, handler)
        routes.append(Route(f"/repos/{{owner}}/{{repo}}{suffix}", endpoint))
        routes.append(Route(f"/repositories/{{repo_id:int}}{suffix}", endpoint))
    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    routes.append(Route("/{path:path}", _not_found, methods=methods))
    return routes


def app(state: SandboxState) -> Starlette:
    """The GitHub sub-application; mount it at `/github` and use that as PyGithub's `base_url`."""
    worlds = Worlds(state)
    github = service_app(
        routes(worlds),
        service=SERVICE,
        state=state,
        auth=auth,
        error_body=error_body,
        echo_body=error_json,  # GitHub's body shape with the echo as its message
    )
    github.add_middleware(teams.ScopesMiddleware, state=state)
    github.add_middleware(RateLimitMiddleware, state=state)
    with state.lock:  # an App installation's limit, by GitHub's formula, unless set already
        people = sum(1 for p in state.world.people if p.github_login)
        for key in (APP_BUDGET, GRAPHQL_APP_BUDGET):
            if key not in state.rate_budgets:
                state.rate_budgets[key].limit = app_rate_limit(len(state.world.repos), people)
    return github
