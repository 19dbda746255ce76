"""Authentication, GitHub's words for the shared middleware's errors, and the primary rate limit."""

from __future__ import annotations

import datetime as dt
import json
import math
import time

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.github.apps import installation_token_valid
from sandbox.github.formats import (
    ANONYMOUS_LIMIT,
    DOCS,
    JSON_TYPE,
    PRIMARY_LIMIT_DOCS,
    SECONDARY_LIMIT_DOCS,
    SERVICE,
    Json,
    error_json,
    request_id,
    user_id,
)
from sandbox.http import RateBudget, SandboxState

GRAPHQL_PATHS = ("/graphql", "/api/graphql")
# Budgets in `SandboxState.rate_budgets`: REST's under SERVICE, the rest under these keys.
APP_BUDGET = f"{SERVICE}:app"
GRAPHQL_BUDGET = f"{SERVICE}:graphql"
GRAPHQL_APP_BUDGET = f"{SERVICE}:graphql:app"


def _token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") and token.strip() else None


def signed_in_as(headers: Headers, state: SandboxState) -> str | None:
    """ "token" (the personal token), "app" (a live installation token), or None."""
    token = _token(headers.get("authorization"))
    if token is None:
        return None
    if token == state.tokens.get(SERVICE):
        return "token"
    return "app" if installation_token_valid(state, token) else None


def is_authenticated(headers: Headers, state: SandboxState) -> bool:
    return signed_in_as(headers, state) is not None


def _app_path(path: str) -> bool:
    return path == "/app" or path.startswith("/app/")


def auth(request: Request, state: SandboxState) -> bool:
    # The App's own endpoints take a JWT, which they check themselves (GitHub's messages).
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    return _app_path(path) or is_authenticated(request.headers, state)


def rest_budget(headers: Headers, state: SandboxState) -> RateBudget:
    return state.rate_budgets[APP_BUDGET if signed_in_as(headers, state) == "app" else SERVICE]


def graphql_budget(headers: Headers, state: SandboxState) -> RateBudget:
    app = signed_in_as(headers, state) == "app"
    return state.rate_budgets[GRAPHQL_APP_BUDGET if app else GRAPHQL_BUDGET]


_SERVER_ERRORS = {
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def error_body(status: int, message: str) -> Json:
    """GitHub's words for what the shared fault middleware answers."""
    if status == 401:
        return error_json(401, "Bad credentials")
    if status in (403, 429):
        return error_json(
            status,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
            f"If you reach out to GitHub Support for help, please include the request ID {request_id()}.",
            SECONDARY_LIMIT_DOCS,
        )
    return {"message": _SERVER_ERRORS.get(status, message), "documentation_url": DOCS}


class RateLimitMiddleware:
    """Spends the primary budget, refuses with GitHub's 403 when it is gone, stamps the headers.

    Outermost, so that the shared middleware's 401s, 429s and 5xx carry the headers too, as
    GitHub's do. A 304 gives its request back: conditional hits are free on the real API.
    """

    def __init__(self, app: ASGIApp, *, state: SandboxState) -> None:
        self.app, self.state = app, state
        self.anonymous = RateBudget(limit=ANONYMOUS_LIMIT)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self.state
        path = scope["path"].removeprefix(scope.get("root_path", "")) or "/"
        headers = Headers(scope=scope)
        authenticated = is_authenticated(headers, state)
        if path in GRAPHQL_PATHS:
            # GraphQL spends points from a budget of its own, in the endpoint (it knows the cost).
            await self._stamp_graphql(scope, receive, send, headers)
            return
        counted = path != "/rate_limit" and not _app_path(path)
        with state.lock:
            budget = rest_budget(headers, state) if authenticated else self.anonymous
            # Only authenticated calls are refused here; a bad token still gets its 401.
            allowed = not counted or budget.take(time.time()) or not authenticated
            if not allowed:
                state.count(SERVICE, scope["path"])
        if not allowed:
            await self._refuse(scope, receive, send, budget)
            return

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                with state.lock:
                    if counted and message["status"] == 304:
                        budget.used = max(0, budget.used - 1)
                    extra = self._headers(budget)
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, stamped)

    async def _stamp_graphql(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers
    ) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                with self.state.lock:
                    budget = graphql_budget(headers, self.state)
                    extra = self._headers(budget, resource="graphql")
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, stamped)

    def _headers(self, budget: RateBudget, resource: str = "core") -> list[tuple[bytes, bytes]]:
        limit, remaining, reset, used = budget_numbers(budget, time.time())
        values = {
            "X-RateLimit-Limit": limit,
            "X-RateLimit-Remaining": remaining,
            "X-RateLimit-Reset": reset,
            "X-RateLimit-Used": used,
            "X-RateLimit-Resource": resource,
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Request-Id": request_id(),
        }
        return [(name.lower().encode(), str(value).encode()) for name, value in values.items()]

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, budget: RateBudget) -> None:
        with self.state.lock:
            headers = self._headers(budget)
            login = self.state.world.bot_account
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        message = (
            f"API rate limit exceeded for user ID {user_id(login)}. If you reach out to GitHub Support "
            f"for help, please include the request ID {request_id()} and timestamp {stamp} UTC."
        )
        data = json.dumps(error_json(403, message, PRIMARY_LIMIT_DOCS)).encode()
        response = Response(data, 403, media_type=JSON_TYPE)
        response.raw_headers.extend(headers)
        await response(scope, receive, send)


def rate_limit_body(budget: RateBudget, graphql: RateBudget, now: float) -> Json:
    """`GET /rate_limit`; it does not count against the limit itself."""
    limit, remaining, reset, used = budget_numbers(budget, now)
    window_end = int(now) + 3600

    def bucket(name: str, lim: int, rem: int, rst: int, usd: int) -> Json:
        return {"limit": lim, "remaining": rem, "reset": rst, "used": usd, "resource": name}

    core = bucket("core", limit, remaining, reset, used)
    return {
        "resources": {
            "core": core,
            "search": bucket("search", 30, 30, int(now) + 60, 0),
            "graphql": bucket("graphql", *budget_numbers(graphql, now)),
            "integration_manifest": bucket("integration_manifest", 5000, 5000, window_end, 0),
            "code_search": bucket("code_search", 10, 10, int(now) + 60, 0),
            "code_scanning_upload": bucket("code_scanning_upload", 1000, 1000, window_end, 0),
        },
        "rate": dict(core),
    }


def budget_numbers(budget: RateBudget, now: float) -> tuple[int, int, int, int]:
    """(limit, remaining, reset epoch seconds, used) as the headers report them."""
    if now >= budget.reset_at:
        return budget.limit, budget.limit, math.ceil(now + budget.window_seconds), 0
    used = min(budget.used, budget.limit)
    return budget.limit, budget.limit - used, math.ceil(budget.reset_at), used
