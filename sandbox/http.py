"""What every fake service shares: its state, authentication, fault injection and the HTTP server.

Each fake service (`sandbox.jira`, `sandbox.github`) builds a Starlette sub-application with
`service_app(...)`; `FaultMiddleware` then checks the credentials and plays the
faults a test asked for (429 with Retry-After, bursts of 5xx, slow or hanging
responses, error pages that quote the request's credentials back) before the endpoint
runs, the way a real service, or a proxy in front of it, misbehaves in front of a
correct endpoint. `SandboxHTTPServer` runs the whole thing with uvicorn on
127.0.0.1 in a background thread (tests, `python -m sandbox serve`) or in the foreground
(`sandbox.server.serve`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import datetime as dt
import html
import http
import socket
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute

from sandbox.world.model import World

LOOPBACK = "127.0.0.1"


@dataclass
class Faults:
    """Misbehaviour of one service, set per test through `/_sandbox/faults` or `SandboxState.set_faults`."""

    rate_limit_every: int = 0  # every Nth request is answered 429 with Retry-After
    rate_limit_status: int = 429  # or 403, as GitHub answers a secondary rate limit too
    retry_after_seconds: int = 1
    error_burst: int = 0  # the next N requests are answered with a 5xx
    error_status: int = 503
    slow_seconds: float = 0.0  # added to every response
    hang_next: int = 0  # the next N requests wait `hang_seconds` (a client time-out)
    hang_seconds: float = 30.0
    malformed: bool = False  # serve the world's malformed records with broken fields
    # Non-zero: answer with this status and an error that quotes the request back, its
    # Authorization header and URL included, as some servers and proxies do: in the
    # service's own error JSON (`echo_format` json), or a proxy's page (proxy, login: `echo_page`).
    echo_status: int = 0
    echo_path: str = ""  # only requests whose path holds this ("": every request)
    echo_format: str = "json"

    def update(self, **changes: Any) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        if changes.get("echo_format", self.echo_format) not in ECHO_FORMATS:
            raise ValueError(f"echo_format: choose one of {', '.join(ECHO_FORMATS)}")
        for name, value in changes.items():
            setattr(self, name, type(getattr(self, name))(value))


@dataclass
class RateBudget:
    """A primary rate limit on wall-clock time: `limit` requests per window, like GitHub's core limit.

    The window opens at the first request and lasts `window_seconds`; a test shortens it to
    watch a client wait for the reset.
    """

    limit: int = 5000
    window_seconds: float = 3600.0
    used: int = 0
    reset_at: float = 0.0  # epoch seconds when the current window ends (0: none open yet)

    def take(self, now: float, cost: int = 1) -> bool:
        """Spend `cost` (a request, or a GraphQL query's points); False when it does not fit."""
        if now >= self.reset_at:
            self.used, self.reset_at = 0, now + self.window_seconds
        if self.used + cost > self.limit:
            return False
        self.used += cost
        return True

    def update(self, **changes: Any) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown rate budget setting(s): {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            setattr(self, name, type(getattr(self, name))(value))


@dataclass
class SandboxState:
    """The world being served plus the per-service knobs; shared by every request."""

    world: World
    tokens: dict[str, str] = field(
        default_factory=lambda: {
            "jira": "jira-token",
            "github": "github-token",
            "kube": "kube-token",
        }
    )
    faults: dict[str, Faults] = field(default_factory=lambda: collections.defaultdict(Faults))
    requests: collections.Counter[str] = field(default_factory=collections.Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock_listeners: list[Callable[[dt.datetime, dt.datetime], None]] = field(default_factory=list)
    jira_cloud: bool = True  # report Cloud (enhanced search) or Server/Data Center (classic search)
    rate_budgets: dict[str, RateBudget] = field(
        default_factory=lambda: collections.defaultdict(RateBudget)
    )  # primary rate limits per service (GitHub's X-RateLimit-*)
    extras: dict[str, Any] = field(default_factory=dict)  # a service's own state (GitHub's App)

    def set_faults(self, service: str, **changes: Any) -> None:
        with self.lock:
            self.faults[service].update(**changes)

    def set_rate_budget(self, service: str, **changes: Any) -> None:
        """Change a service's primary budget (limit, window_seconds); a new window starts."""
        with self.lock:
            budget = self.rate_budgets[service]
            budget.update(**changes)
            budget.used, budget.reset_at = 0, 0.0

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def advance(self, to: dt.datetime) -> None:
        """Move the clock forward; what happened in between becomes visible."""
        with self.lock:
            before = self.world.clock
            if to < before:
                raise ValueError(f"the sandbox clock only moves forward ({to} < {before})")
            if to > self.world.end:
                raise ValueError(f"the world was generated up to {self.world.end}, not {to}")
            self.world.clock = to
            for listener in self.clock_listeners:
                listener(before, to)

    def count(self, service: str, path: str) -> None:
        with self.lock:
            self.requests[service] += 1
            self.requests[f"{service} {path}"] += 1


ErrorBody = Callable[[int, str], dict[str, Any]]
AuthCheck = Callable[[Request, SandboxState], bool]
ECHO_FORMATS = ("json", "proxy", "login")


def _url_as_seen(url: str, authorization: str) -> str:
    """The URL with the Basic credentials in its userinfo, as a proxy's log writes a request."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        return url
    try:
        user, _, secret = base64.b64decode(credentials.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return url
    parts = urllib.parse.urlsplit(url)
    userinfo = f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(secret, safe='')}"
    return parts._replace(netloc=f"{userinfo}@{parts.netloc}").geturl()


def echo_message(request: Request) -> str:
    """What a careless server says about a request it refuses: the request, credentials and all."""
    authorization = request.headers.get("authorization", "(none)")
    return (
        f"{request.method} {request.url} was refused; it came with Authorization: {authorization}"
    )


def echo_page(request: Request, status: int, form: str) -> str:
    """A proxy's one-line error page quoting the request back (HTML-escaped).

    `proxy`: the request as the proxy saw it, the Basic credentials as the URL's userinfo
    (percent-encoded), then the header. `login`: a sign-in link that carries the header
    and the URL percent-encoded, to replay the request afterwards.
    """
    authorization = request.headers.get("authorization", "")
    url = str(request.url)
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    if form == "login":
        again = (
            f"/login?authorization={urllib.parse.quote(authorization, safe='')}"
            f"&next={urllib.parse.quote(url, safe='')}"
        )
        said = f'<a href="{html.escape(again)}">sign in again</a>'
    else:
        said = (
            f"{request.method} {html.escape(_url_as_seen(url, authorization))} "
            f"(Authorization: {html.escape(authorization)})"
        )
    return f"<html><body><p>{status} {phrase}: {said}</p></body></html>"


class FaultMiddleware(BaseHTTPMiddleware):
    """Counts, authenticates and misbehaves on request, before the endpoint answers."""

    def __init__(
        self,
        app: Any,
        *,
        service: str,
        state: SandboxState,
        auth: AuthCheck,
        error_body: ErrorBody,
        echo_body: ErrorBody | None = None,
    ) -> None:
        super().__init__(app)
        self.service, self.state, self.auth, self.error_body = service, state, auth, error_body
        self.echo_body = echo_body or error_body

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        state, service = self.state, self.service
        state.count(service, request.url.path)
        with state.lock:
            faults = state.faults[service]
            n = state.requests[service]
            hang = faults.hang_next > 0
            if hang:
                faults.hang_next -= 1
            burst = faults.error_burst > 0
            if burst:
                faults.error_burst -= 1
            limited = faults.rate_limit_every > 0 and n % faults.rate_limit_every == 0
            slow, hang_seconds, status = (
                faults.slow_seconds,
                faults.hang_seconds,
                faults.error_status,
            )
            retry_after = faults.retry_after_seconds
            limited_status = faults.rate_limit_status
            echo = faults.echo_status if faults.echo_path in request.url.path else 0
            echo_format = faults.echo_format
        if hang:
            await asyncio.sleep(hang_seconds)
        if slow:
            await asyncio.sleep(slow)
        if echo:
            if echo_format != "json":
                return HTMLResponse(echo_page(request, echo, echo_format), echo)
            return JSONResponse(self.echo_body(echo, echo_message(request)), echo)
        if not self.auth(request, state):
            return JSONResponse(
                self.error_body(401, "Client must be authenticated to access this resource."), 401
            )
        if burst:
            return JSONResponse(
                self.error_body(status, "Service unavailable, try again later."), status
            )
        if limited:
            return JSONResponse(
                self.error_body(limited_status, "Rate limit exceeded."),
                limited_status,
                headers={"Retry-After": str(retry_after)},
            )
        return await call_next(request)


def service_app(
    routes: Sequence[BaseRoute],
    *,
    service: str,
    state: SandboxState,
    auth: AuthCheck,
    error_body: ErrorBody,
    echo_body: ErrorBody | None = None,
) -> Starlette:
    """A sub-application for one fake service, behind the shared auth and fault middleware.

    `error_body(status, message)` is the service's error JSON; `echo_body` the one that
    carries an echoed request (`error_body` unless the service words its errors itself).
    """
    middleware = [
        Middleware(
            FaultMiddleware,
            service=service,
            state=state,
            auth=auth,
            error_body=error_body,
            echo_body=echo_body,
        )
    ]
    return Starlette(routes=list(routes), middleware=middleware)


class SandboxHTTPServer:
    """uvicorn on 127.0.0.1; port 0 picks a free port. Use as a context manager in tests."""

    def __init__(self, app: Starlette, port: int = 0, host: str = LOOPBACK) -> None:
        if host not in (LOOPBACK, "localhost", "::1"):
            raise ValueError("the sandbox serves on the loopback interface only")
        self.app = app
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
        # listening socket says so, and without it every keep-alive request waits ~40 ms
        # (Nagle against delayed ACKs).
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((LOOPBACK, port))
        self.port: int = self.socket.getsockname()[1]
        self.url = f"http://{LOOPBACK}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        self.server.run(sockets=[self.socket])

    def start(self) -> SandboxHTTPServer:
        self.thread = threading.Thread(target=self.serve_forever, name="sandbox-http", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the sandbox HTTP server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.socket.close()

    def __enter__(self) -> SandboxHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
