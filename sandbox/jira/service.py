"""The Jira sub-application (`app`): its routes, and the per-world state every endpoint reads (`JiraService`)."""

from __future__ import annotations

import collections
import datetime as dt
import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.http import SandboxState, service_app
from sandbox.jira import issues, jql, metadata, users
from sandbox.jira.data import JiraData, Snapshot
from sandbox.jira.protocol import ApiError, auth, base_url, error_body, json_response
from sandbox.jira.render import View
from sandbox.jira.schema import SERVICE


class JiraService:
    """The indexed world and its snapshots, which every endpoint (`metadata`, `issues`) reads; one per sandbox."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._data: JiraData | None = None
        self._snapshots: collections.OrderedDict[dt.datetime, Snapshot] = collections.OrderedDict()
        self._lock = threading.RLock()

    def data(self) -> JiraData:
        with self._lock:
            if self._data is None or self._data.world is not self.state.world:
                self._data = JiraData(self.state.world)
                self._snapshots.clear()
            return self._data

    def snapshot(self) -> Snapshot:
        data = self.data()
        clock = self.state.world.clock
        with self._lock:
            snap = self._snapshots.get(clock)
            if snap is None:
                snap = Snapshot(data, clock)
                self._snapshots[clock] = snap
                while len(self._snapshots) > 2:
                    self._snapshots.popitem(last=False)
            return snap

    def view(self, request: Request, version: str) -> View:
        cloud = self.state.jira_cloud
        if version == "latest":
            version = "2"
        if version not in (("2", "3") if cloud else ("2",)):
            raise ApiError(404, f"null for uri: {request.url}")
        with self.state.lock:
            malformed = (
                self.state.faults[SERVICE].malformed if SERVICE in self.state.faults else False
            )
        base = base_url(request)
        return View(self.data(), self.snapshot(), base, version, cloud, malformed)

    def endpoint(self, handler: Callable[..., Any]) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            try:
                result = await handler(request)
            except ApiError as error:
                return json_response({"errorMessages": error.messages, "errors": {}}, error.status)
            except jql.JQLError as error:
                return json_response({"errorMessages": [str(error)], "errors": {}}, 400)
            return result if isinstance(result, Response) else json_response(result)

        return run


def app(state: SandboxState) -> Starlette:
    """The Jira sub-application, behind the shared auth and fault middleware."""
    service = JiraService(state)
    api = "/rest/api/{version}"

    def route(path: str, handler: Callable[..., Any], methods: Sequence[str] = ("GET",)) -> Route:
        return Route(
            path, service.endpoint(functools.partial(handler, service)), methods=list(methods)
        )

    routes = [
        route(f"{api}/serverInfo", metadata.server_info),
        route("/rest/auth/1/session", metadata.session),
        route(f"{api}/myself", metadata.myself),
        route(f"{api}/field", metadata.fields_list),
        route(f"{api}/status", metadata.statuses),
        route(f"{api}/statuscategory", metadata.status_categories),
        route(f"{api}/priority", metadata.priorities),
        route(f"{api}/issuetype", metadata.issue_types),
        route(f"{api}/project", metadata.projects),
        route(f"{api}/project/search", metadata.project_search),
        route(f"{api}/project/{{key}}", metadata.project),
        route(f"{api}/user", metadata.user),
        *users.routes(route, api),
        route(f"{api}/search/jql", issues.search_jql, ("GET", "POST")),
        route(f"{api}/search", issues.search_classic, ("GET", "POST")),
        route(f"{api}/changelog/bulkfetch", issues.bulk_changelog, ("POST",)),
        route(f"{api}/issue/{{key}}", issues.issue),
        route(f"{api}/issue/{{key}}/changelog", issues.changelog),
        route(f"{api}/issue/{{key}}/comment", issues.comments),
        route(f"{api}/issue/{{key}}/worklog", issues.worklogs),
        route("/{path:path}", metadata.not_found, ("GET", "POST", "PUT", "DELETE")),
    ]
    return service_app(routes, service=SERVICE, state=state, auth=auth, error_body=error_body)
