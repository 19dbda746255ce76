"""The sandbox as one HTTP server: fake Jira at /jira, fake GitHub at /github, admin knobs at /_sandbox.

`Sandbox` runs it in a background thread for tests and benchmarks; `serve` runs it in the
foreground, HTTP alone (the sync benchmarks' sandbox process). The admin routes move the clock, inject faults
and count requests; they need no credentials and answer only on the loopback interface.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from sandbox.github.service import app as github_app
from sandbox.http import SandboxHTTPServer, SandboxState
from sandbox.jira.service import app as jira_app
from sandbox.world.model import World

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def _parse_time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def stats_of(state: SandboxState) -> dict[str, Any]:
    """Request counts per service and per path, as `/_sandbox/stats` reports them."""
    with state.lock:
        counts = dict(state.requests)
    services = {key: n for key, n in counts.items() if " " not in key}
    paths: dict[str, dict[str, int]] = {}
    for key, n in counts.items():
        if " " in key:
            service, path = key.split(" ", 1)
            paths.setdefault(service, {})[path] = n
    return {"services": services, "paths": paths}


def _admin_routes(state: SandboxState) -> list[Route]:
    def refuse_remote(request: Request) -> JSONResponse | None:
        host = request.client.host if request.client else ""
        if host not in LOOPBACK_HOSTS:
            return JSONResponse(
                {"error": "the sandbox admin API answers on the loopback interface only"}, 403
            )
        return None

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        data = json.loads(raw) if raw else {}
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    def clock_body() -> dict[str, Any]:
        world = state.world
        return {
            "clock": world.clock.isoformat(),
            "start": world.start.isoformat(),
            "end": world.end.isoformat(),
        }

    async def clock(request: Request) -> JSONResponse:
        if refused := refuse_remote(request):
            return refused
        if request.method == "POST":
            try:
                data = await body(request)
                if "to" in data:
                    target = _parse_time(str(data["to"]))
                elif "hours" in data:
                    target = state.world.clock + dt.timedelta(hours=float(data["hours"]))
                else:
                    raise ValueError('give {"to": "<ISO time>"} or {"hours": <n>}')
                state.advance(target)
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, 400)
        return JSONResponse(clock_body())

    async def faults(request: Request) -> JSONResponse:
        if refused := refuse_remote(request):
            return refused
        if request.method == "DELETE":
            state.clear_faults()
            return JSONResponse({"faults": {}})
        try:
            data = await body(request)
            service = data.pop("service")
            state.set_faults(str(service), **data)
        except KeyError:
            return JSONResponse({"error": 'name the service: {"service": "jira", ...}'}, 400)
        except (ValueError, TypeError) as error:
            return JSONResponse({"error": str(error)}, 400)
        with state.lock:
            current = {name: vars(f).copy() for name, f in state.faults.items()}
        return JSONResponse({"faults": current})

    async def stats(request: Request) -> JSONResponse:
        if refused := refuse_remote(request):
            return refused
        return JSONResponse(stats_of(state))

    async def reset_stats(request: Request) -> JSONResponse:
        if refused := refuse_remote(request):
            return refused
        with state.lock:
            state.requests.clear()
        return JSONResponse(stats_of(state))

    return [
        Route("/clock", clock, methods=["GET", "POST"]),
        Route("/faults", faults, methods=["POST", "DELETE"]),
        Route("/stats", stats, methods=["GET"]),
        Route("/stats/reset", reset_stats, methods=["POST"]),
    ]


def build_app(state: SandboxState) -> Starlette:
    """Every fake service under one root, plus the admin routes."""
    return Starlette(
        routes=[
            Mount("/jira", app=jira_app(state)),
            Mount("/github", app=github_app(state)),
            Mount("/_sandbox", routes=_admin_routes(state)),
        ]
    )


class Sandbox:
    """The whole sandbox on 127.0.0.1 in a background thread; a context manager in tests."""

    def __init__(self, world: World, port: int = 0, jira_cloud: bool = True) -> None:
        self.state = SandboxState(world=world, jira_cloud=jira_cloud)
        self.server = SandboxHTTPServer(build_app(self.state), port=port)
        self.url = self.server.url
        self.jira_url = f"{self.url}/jira"
        self.github_url = f"{self.url}/github"

    def start(self) -> Sandbox:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def advance(self, to: dt.datetime | dt.timedelta) -> None:
        """Move the clock to a moment, or forward by a duration."""
        self.state.advance(self.state.world.clock + to if isinstance(to, dt.timedelta) else to)

    def set_faults(self, service: str, **changes: Any) -> None:
        self.state.set_faults(service, **changes)

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def stats(self) -> dict[str, Any]:
        return stats_of(self.state)


def serve(world: World, port: int = 8765, jira_cloud: bool = True) -> None:
    """Run the sandbox in the foreground until interrupted: Jira and GitHub, no cluster."""
    state = SandboxState(world=world, jira_cloud=jira_cloud)
    server = SandboxHTTPServer(build_app(state), port=port)
    deployment = "Cloud" if jira_cloud else "Server"
    print(f"sandbox on {server.url}  (clock {world.clock.isoformat()})")
    print(
        f"  jira   {server.url}/jira   ({deployment}; {world.bot_email} / {state.tokens['jira']})"
    )
    print(f"  github {server.url}/github (token {state.tokens['github']})")
    print(f"  admin  {server.url}/_sandbox/clock | faults | stats", flush=True)
    # The world lives as long as the process: keep the cyclic GC from rescanning its
    # millions of objects on every collection (a third of the time per served issue).
    gc.freeze()
    try:
        server.serve_forever()
    finally:
        server.socket.close()
