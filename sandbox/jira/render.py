"""The JSON of one request: users, statuses, projects, histories, comments, worklogs and the issue bean."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.jira.data import JiraData, Snapshot
from sandbox.jira.schema import (
    CHANGE_FIELDS,
    CLOUD_ONLY_FIELDS,
    EPIC_LINK,
    FIELD_NAMES,
    INLINE_WORKLOGS,
    ISSUE_EXPAND,
    RANK,
    SPRINT,
    STATUS_CATEGORIES,
    STORY_POINTS,
    SUBTASK_TYPES,
    adf,
    jira_time,
    time_spent,
)
from sandbox.world.model import ChangeItem, Comment, History, Issue, Status, Worklog


@dataclass
class View:
    """How to render for one request: API version, deployment, base URL, clock, faults."""

    data: JiraData
    snap: Snapshot
    base: str  # ".../jira"
    version: str  # "2" | "3"
    cloud: bool
    malformed: bool
    _users: dict[str | None, dict[str, Any] | None] = field(default_factory=dict)
    states: dict[int, tuple[Status, float, float | None]] = field(default_factory=dict)

    @property
    def api(self) -> str:
        return f"{self.base}/rest/api/{self.version}"

    def time(self, moment: dt.datetime) -> str:
        return jira_time(moment, self.data.tz)

    def text(self, text: str) -> Any:
        return adf(text) if self.version == "3" else (text or None)

    def user(self, account_id: str | None) -> dict[str, Any] | None:
        if account_id in self._users:
            return self._users[account_id]
        if account_id is None:
            return None
        person = self.data.people.get(account_id)
        avatars = {
            size: f"{self.base}/secure/useravatar?size={size}&ownerId={account_id}"
            for size in ("48x48", "24x24", "16x16", "32x32")
        }
        name = person.name if person else account_id
        body: dict[str, Any]
        if self.cloud:
            body = {"self": f"{self.api}/user?accountId={account_id}", "accountId": account_id}
        else:
            body = {
                "self": f"{self.api}/user?username={account_id}",
                "name": account_id,
                "key": account_id,
            }
        body |= {
            "emailAddress": person.email if person else f"{account_id}@unknown.sandbox.example",
            "avatarUrls": avatars,
            "displayName": name,
            "active": person is not None,
            "timeZone": person.jira_timezone if person else "UTC",
        }
        if self.cloud:
            body["accountType"] = "atlassian"
            ids = self.data.world.identities
            if ids is not None and account_id in ids.hidden_emails:
                del body["emailAddress"]  # the user's profile hides it (Cloud privacy)
        self._users[account_id] = body
        return body

    def status_category(self, key: str) -> dict[str, Any]:
        cid, ckey, colour, name = STATUS_CATEGORIES.get(key, STATUS_CATEGORIES["undefined"])
        return {
            "self": f"{self.api}/statuscategory/{cid}",
            "id": cid,
            "key": ckey,
            "colorName": colour,
            "name": name,
        }

    def status(self, status: Status) -> dict[str, Any]:
        return {
            "self": f"{self.api}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": self.status_category(status.category),
        }

    def issue_type(self, type_id: str, name: str) -> dict[str, Any]:
        subtask = name.lower() in SUBTASK_TYPES
        body = {
            "self": f"{self.api}/issuetype/{type_id}",
            "id": type_id,
            "description": f"{name} issues.",
            "iconUrl": f"{self.base}/images/icons/issuetypes/{name.lower().replace(' ', '')}.svg",
            "name": name,
            "subtask": subtask,
        }
        if self.cloud:
            body |= {
                "avatarId": 10300 + int(type_id) % 100,
                "hierarchyLevel": -1 if subtask else 1 if name == "Epic" else 0,
            }
        return body

    def priority(self, name: str) -> dict[str, Any]:
        pid, pname = self.data.priority_by_name.get(name, ("3", name))
        return {
            "self": f"{self.api}/priority/{pid}",
            "iconUrl": f"{self.base}/images/icons/priorities/{pname.lower()}.svg",
            "name": pname,
            "id": pid,
        }

    def project(self, key: str) -> dict[str, Any]:
        pid, pkey, name = self.data.project_by_key.get(key.upper(), ("0", key, key))
        avatars = {
            size: f"{self.base}/secure/projectavatar?size={size}&pid={pid}"
            for size in ("48x48", "24x24", "16x16", "32x32")
        }
        body = {
            "self": f"{self.api}/project/{pid}",
            "id": pid,
            "key": pkey,
            "name": name,
            "projectTypeKey": "software",
            "avatarUrls": avatars,
        }
        if self.cloud:
            body["simplified"] = False
        return body

    def history(self, history: History) -> dict[str, Any]:
        return {
            "id": history.id,
            "author": self.user(history.author),
            "created": self.time(history.at),
            "items": [self.change(i) for i in history.items],
        }

    def change(self, item: ChangeItem) -> dict[str, Any]:
        fieldtype, field_id = CHANGE_FIELDS.get(item.field.lower(), ("jira", item.field))
        body: dict[str, Any] = {"field": item.field, "fieldtype": fieldtype}
        if self.cloud:
            body["fieldId"] = field_id
        body |= {
            "from": item.from_id,
            "fromString": item.from_string,
            "to": item.to_id,
            "toString": item.to_string,
        }
        return body

    def comment(self, issue: Issue, comment: Comment) -> dict[str, Any]:
        author = self.user(comment.author)
        body = {
            "self": f"{self.api}/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": author,
            "body": adf(comment.body) if self.version == "3" else comment.body,
            "updateAuthor": author,
            "created": self.time(comment.at),
            "updated": self.time(comment.at),
        }
        if self.cloud:
            body["jsdPublic"] = True
        return body

    def worklog(self, issue: Issue, worklog: Worklog) -> dict[str, Any]:
        author = self.user(worklog.author)
        started = self.time(worklog.started)
        return {
            "self": f"{self.api}/issue/{issue.id}/worklog/{worklog.id}",
            "author": author,
            "updateAuthor": author,
            "created": started,
            "updated": started,
            "started": started,
            "timeSpent": time_spent(worklog.seconds),
            "timeSpentSeconds": worklog.seconds,
            "id": worklog.id,
            "issueId": issue.id,
        }

    def issue_ref(self, n: int) -> dict[str, Any]:
        """The short form Jira nests for a parent or sub-task."""
        issue = self.data.issues[n]
        status = self.snap.status_steps(n)[-1][1]
        type_id, type_name = self.data.type_by_name[issue.issue_type.lower()]
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.api}/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "status": self.status(status),
                "priority": self.priority(issue.priority),
                "issuetype": self.issue_type(type_id, type_name),
            },
        }

    # the issue bean

    def issue(
        self,
        n: int,
        fields: Sequence[str] | None,
        expand: frozenset[str],
        changelog_cap: int | None,
    ) -> dict[str, Any]:
        issue = self.data.issues[n]
        if fields is None:
            return {"id": issue.id}
        body: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": issue.id,
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
        }
        if "changelog" in expand:
            body["changelog"] = self.inline_changelog(n, changelog_cap)
        values = self.fields(n, fields)
        if self.malformed and issue.malformed:
            _break(issue, values)
        body["fields"] = values
        if "names" in expand:
            body["names"] = {f: FIELD_NAMES[f] for f in values if f in FIELD_NAMES}
        return body

    def inline_changelog(self, n: int, cap: int | None) -> dict[str, Any]:
        histories = self.snap.histories(n)
        # Server: the whole history, oldest first. Cloud: "a list of recent updates ..., sorted
        # by date, starting from the most recent", cut at the cap.
        shown = histories if cap is None else histories[::-1][:cap]
        return {
            "startAt": 0,
            "maxResults": len(shown),
            "total": len(histories),
            "histories": [self.history(h) for h in shown],
        }

    def fields(self, n: int, wanted: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in wanted:
            builder = _FIELD_BUILDERS.get(name)
            if builder is None or (name in CLOUD_ONLY_FIELDS and not self.cloud):
                continue
            value = builder(self, n)
            if value is not _ABSENT:
                out[name] = value
        return out


_ABSENT = object()


def _status_fields(view: View, n: int) -> tuple[Status, float, float | None]:
    """Current status, when its category last changed, and when the issue was resolved (None if open)."""
    found = view.states.get(n)
    if found is None:
        found = view.states[n] = _status_state(view.snap.status_steps(n))
    return found


def _status_state(steps: list[tuple[float, Status]]) -> tuple[Status, float, float | None]:
    status = steps[-1][1]
    category_changed = steps[0][0]
    for k in range(1, len(steps)):
        if steps[k][1].category != steps[k - 1][1].category:
            category_changed = steps[k][0]
    resolved = None
    if status.category == "done":
        k = len(steps) - 1
        while k > 0 and steps[k - 1][1].category == "done":
            k -= 1
        resolved = steps[k][0]
    return status, category_changed, resolved


def _when(ts: float | None, view: View) -> str | None:
    return None if ts is None else view.time(dt.datetime.fromtimestamp(ts, dt.UTC))


def _field_parent(view: View, n: int) -> Any:
    issue = view.data.issues[n]
    parent_key = issue.parent_key or (issue.epic_key if view.cloud else None)
    parent = view.data.by_key.get(parent_key.upper()) if parent_key else None
    return _ABSENT if parent is None or parent >= view.snap.visible else view.issue_ref(parent)


def _field_resolution(view: View, n: int) -> Any:
    if _status_fields(view, n)[2] is None:
        return None
    return {
        "self": f"{view.api}/resolution/10000",
        "id": "10000",
        "description": "Work has been completed on this issue.",
        "name": "Done",
    }


def _field_components(view: View, n: int) -> Any:
    issue = view.data.issues[n]
    return [
        {
            "self": f"{view.api}/component/{view.data.components[(issue.project, c)]}",
            "id": view.data.components[(issue.project, c)],
            "name": c,
        }
        for c in issue.components
    ]


def _field_subtasks(view: View, n: int) -> Any:
    children = view.data.children.get(view.data.issues[n].key.upper(), [])
    return [
        view.issue_ref(c)
        for c in children
        if c < view.snap.visible and view.data.issues[c].issue_type.lower() in SUBTASK_TYPES
    ]


def _field_comment(view: View, n: int) -> Any:
    issue = view.data.issues[n]
    comments = view.snap.comments(n)
    return {
        "comments": [view.comment(issue, c) for c in comments],
        "self": f"{view.api}/issue/{issue.id}/comment",
        "maxResults": len(comments),
        "total": len(comments),
        "startAt": 0,
    }


def _field_worklog(view: View, n: int) -> Any:
    issue = view.data.issues[n]
    worklogs = view.snap.worklogs(n)
    return {
        "startAt": 0,
        "maxResults": INLINE_WORKLOGS,
        "total": len(worklogs),
        "worklogs": [view.worklog(issue, w) for w in worklogs[:INLINE_WORKLOGS]],
    }


def _field_sprint(view: View, n: int) -> Any:
    sprint = view.data.issues[n].sprint
    if not sprint:
        return None
    return [
        {
            "id": view.data.sprints[sprint],
            "name": sprint,
            "state": "closed",
            "boardId": 1,
            "goal": "",
        }
    ]


def _issue_type_field(view: View, n: int) -> Any:
    type_id, name = view.data.type_by_name[view.data.issues[n].issue_type.lower()]
    return view.issue_type(type_id, name)


_FIELD_BUILDERS: dict[str, Callable[[View, int], Any]] = {
    "statuscategorychangedate": lambda v, n: _when(_status_fields(v, n)[1], v),
    "parent": _field_parent,
    "fixVersions": lambda v, n: [],
    "resolution": _field_resolution,
    "priority": lambda v, n: v.priority(v.data.issues[n].priority),
    "labels": lambda v, n: list(v.data.issues[n].labels),
    "versions": lambda v, n: [],
    "issuelinks": lambda v, n: [],
    "assignee": lambda v, n: v.user(v.snap.assignee(n)),
    "status": lambda v, n: v.status(_status_fields(v, n)[0]),
    "components": _field_components,
    "creator": lambda v, n: v.user(v.data.issues[n].reporter),
    "subtasks": _field_subtasks,
    "reporter": lambda v, n: v.user(v.data.issues[n].reporter),
    "issuetype": _issue_type_field,
    "project": lambda v, n: v.project(v.data.issues[n].project),
    "resolutiondate": lambda v, n: _when(_status_fields(v, n)[2], v),
    "updated": lambda v, n: v.time(v.snap.updated_at(n)),
    "description": lambda v, n: v.text(v.data.issues[n].description),
    "summary": lambda v, n: v.data.issues[n].summary,
    "environment": lambda v, n: None,
    "duedate": lambda v, n: None,
    "comment": _field_comment,
    "worklog": _field_worklog,
    "created": lambda v, n: v.time(v.data.issues[n].created),
    EPIC_LINK: lambda v, n: v.data.issues[n].epic_key,
    SPRINT: _field_sprint,
    STORY_POINTS: lambda v, n: v.data.issues[n].story_points,
    RANK: lambda v, n: f"0|i{n:05x}:",  # LexoRank-like, in creation order
}


def _break(issue: Issue, values: dict[str, Any]) -> None:
    """Damage a record the way real data goes bad: an unparseable date, an unknown status, a missing field."""
    mode = zlib.crc32(issue.id.encode()) % 3
    if mode == 0:
        values["created"] = "not a date"
    elif mode == 1:
        values["status"] = {
            "self": "",
            "description": "",
            "iconUrl": "",
            "name": "Retired",
            "id": "99999",
            "statusCategory": {
                "id": 1,
                "key": "undefined",
                "colorName": "medium-gray",
                "name": "No Category",
            },
        }
    else:
        values.pop("issuetype", None)
