"""Jira's metadata endpoints: server info, the caller, fields, statuses, priorities, issue types, projects, users."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from sandbox.jira.protocol import ApiError, base_url, int_param
from sandbox.jira.schema import (
    CLOUD_BUILD,
    CLOUD_ONLY_FIELDS,
    CLOUD_VERSION,
    CLOUD_VERSION_NUMBERS,
    CUSTOM_FIELDS,
    DEFAULT_PRIORITIES,
    NAVIGABLE_FIELD_IDS,
    PRIORITY_COLOURS,
    SERVER_BUILD,
    SERVER_VERSION,
    SERVER_VERSION_NUMBERS,
    STATUS_CATEGORIES,
    SYSTEM_FIELDS,
    UNORDERABLE,
    jira_time,
    system_schema,
)

if TYPE_CHECKING:
    from sandbox.jira.service import JiraService


async def server_info(service: JiraService, request: Request) -> Any:
    data, cloud = service.data(), service.state.jira_cloud
    base = base_url(request)
    return {
        "baseUrl": base,
        "displayUrl": base,
        "version": CLOUD_VERSION if cloud else SERVER_VERSION,
        "versionNumbers": CLOUD_VERSION_NUMBERS if cloud else SERVER_VERSION_NUMBERS,
        "deploymentType": "Cloud" if cloud else "Server",
        "buildNumber": CLOUD_BUILD if cloud else SERVER_BUILD,
        "buildDate": jira_time(dt.datetime(2025, 1, 6, tzinfo=dt.UTC), data.tz),
        "serverTime": jira_time(service.state.world.clock, data.tz),
        "scmInfo": "7f0b5e1c2d4a6b8c9e0f1a2b3c4d5e6f7a8b9c0d",
        "serverTitle": "Jira",
        "serverTimeZone": data.tz.key,
    }


async def myself(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    body = dict(view.user(view.data.bot.jira_account_id) or {})
    body |= {
        "locale": "en_US",
        "groups": {"size": 0, "items": []},
        "applicationRoles": {"size": 1, "items": []},
        "expand": "groups,applicationRoles",
    }
    return body


async def session(service: JiraService, request: Request) -> Any:
    bot = service.data().bot
    base = base_url(request)
    return {
        "self": f"{base}/rest/api/latest/user?username={bot.jira_account_id}",
        "name": bot.jira_account_id,
        "loginInfo": {"failedLoginCount": 0, "loginCount": 1},
    }


async def fields_list(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    system = [
        (fid, name, False, [fid.lower()], system_schema(fid, kind))
        for fid, name, kind in SYSTEM_FIELDS
        if view.cloud or fid not in CLOUD_ONLY_FIELDS
    ]
    custom = [
        (fid, name, True, [f"cf[{schema['customId']}]", name], schema)
        for fid, name, schema in CUSTOM_FIELDS
    ]
    out = []
    for fid, name, is_custom, clauses, schema in system + custom:
        entry: dict[str, Any] = {"id": fid, "name": name, "custom": is_custom}
        entry |= {"orderable": fid not in UNORDERABLE, "navigable": fid in NAVIGABLE_FIELD_IDS}
        entry |= {"searchable": True, "clauseNames": clauses, "schema": schema}
        if view.cloud:
            entry |= {"key": fid, "untranslatedName": name}
        out.append(entry)
    return out


async def statuses(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    return [view.status(s) for s in view.data.statuses]


async def status_categories(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    return [view.status_category(key) for key in STATUS_CATEGORIES]


async def priorities(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    colours = dict(zip(DEFAULT_PRIORITIES, PRIORITY_COLOURS, strict=True))
    return [
        view.priority(name)
        | {"statusColor": colours.get(name, "#707070"), "description": f"{name} priority."}
        for _, name in view.data.priorities
    ]


async def issue_types(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    return [view.issue_type(tid, name) for tid, name in view.data.issue_types]


async def projects(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    return [
        view.project(key)
        | {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "style": "classic",
            "isPrivate": False,
            "properties": {},
        }
        for _, key, _ in view.data.projects
    ]


async def project_search(service: JiraService, request: Request) -> Any:
    values = await projects(service, request)
    start = int_param(request.query_params.get("startAt"), 0, "startAt")
    size = min(int_param(request.query_params.get("maxResults"), 50, "maxResults", 1), 100)
    page = values[start : start + size]
    return {
        "self": str(request.url),
        "maxResults": size,
        "startAt": start,
        "total": len(values),
        "isLast": start + size >= len(values),
        "values": page,
    }


async def project(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    wanted = request.path_params["key"]
    for pid, key, _ in view.data.projects:
        if wanted in (pid, key) or wanted.upper() == key.upper():
            return view.project(key)
    raise ApiError(404, f"No project could be found with key '{wanted}'.")


async def user(service: JiraService, request: Request) -> Any:
    view = service.view(request, request.path_params["version"])
    params = request.query_params
    account = (
        params.get("accountId") if view.cloud else (params.get("username") or params.get("key"))
    )
    if not account:
        raise ApiError(
            400,
            "The query parameter 'accountId' is required."
            if view.cloud
            else "The username query parameter was not provided",
        )
    if account not in view.data.people:
        raise ApiError(
            404, f"Specified user does not exist or you do not have access to it: {account}"
        )
    return view.user(account) | {
        "locale": "en_US",
        "groups": {"size": 0, "items": []},
        "applicationRoles": {"size": 1, "items": []},
        "expand": "groups,applicationRoles",
    }


async def not_found(service: JiraService, request: Request) -> Any:
    raise ApiError(404, f"null for uri: {request.url}")
