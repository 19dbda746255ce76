"""The fake Jira REST API (Cloud, or Server/Data Center on request), served from the sandbox world.

Mounted at `/jira`, so the `jira` client connects with `server="http://127.0.0.1:PORT/jira"`.
Shapes, defaults, caps and error bodies follow the Jira Cloud platform REST API v2/v3
reference (OpenAPI `swagger-v3.v3.json`) and the recordings in `shared/realdata/jira`;
quirks that documentation states or users report are imitated on purpose:

- `search/jql` pages with `nextPageToken` (omitted on the last page) and `isLast`, returns
  only issue ids unless `fields` asks for more, refuses unbounded queries, and caps
  `expand=changelog` at the 40 most recent histories (`total` still counts them all);
  issue GET caps the inline changelog at 100. The rest comes from `/issue/{id}/changelog`
  and `/changelog/bulkfetch`.
- the old `/search` answers 410 Gone on Cloud; on Server it is the only search (startAt/total),
  and Server has no v3, no `search/jql`, no changelog endpoints: its inline changelog is complete.
- timestamps are rendered in the caller's profile timezone, and JQL dates are read in it.

The world holds whole histories; everything is shown as of `world.clock`. Per-issue
timelines are built once, a `Snapshot` per clock value holds the visible prefix and the
issues sorted by `updated`, and query results are cached per snapshot so paging is a slice.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import collections
import datetime as dt
import functools
import json
import threading
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox import jql
from sandbox.http import SandboxState, service_app
from sandbox.world.model import ChangeItem, Comment, History, Issue, Person, Status, Worklog, World

SERVICE = "jira"
CLOUD_VERSION, CLOUD_VERSION_NUMBERS, CLOUD_BUILD = "1001.0.0-SNAPSHOT", [1001, 0, 0], 100288
SERVER_VERSION, SERVER_VERSION_NUMBERS, SERVER_BUILD = "9.12.15", [9, 12, 15], 9120015
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"

# Page sizes: defaults and caps from the REST reference (search/jql "max 5000" only for id/key-only
# pages; it "may return fewer items per page where a large number of fields are requested").
SEARCH_JQL_DEFAULT, SEARCH_JQL_MAX_IDS, SEARCH_JQL_MAX_FIELDS = 50, 5000, 100
SERVER_SEARCH_DEFAULT, SERVER_SEARCH_MAX = 50, 1000
SEARCH_JQL_CHANGELOG_CAP, ISSUE_CHANGELOG_CAP = 40, 100
CHANGELOG_PAGE_DEFAULT = CHANGELOG_PAGE_MAX = 100
COMMENTS_DEFAULT, COMMENTS_MAX = 100, 5000
WORKLOGS_DEFAULT = WORKLOGS_MAX = 5000
INLINE_WORKLOGS = 20  # the `worklog` field of an issue carries the first 20
BULK_ISSUES_MAX, BULK_FIELDS_MAX, BULK_PAGE_DEFAULT, BULK_PAGE_MAX = 1000, 10, 1000, 10000
QUERY_CACHE_SIZE = 64

REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)

# key -> (id, key, colorName, name), as /statuscategory lists them
STATUS_CATEGORIES: dict[str, tuple[int, str, str, str]] = {
    "undefined": (1, "undefined", "medium-gray", "No Category"),
    "new": (2, "new", "blue-gray", "To Do"),
    "indeterminate": (4, "indeterminate", "yellow", "In Progress"),
    "done": (3, "done", "green", "Done"),
}
# Jira Cloud's default priority scheme, most urgent first
DEFAULT_PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
PRIORITY_COLOURS = ("#d04437", "#f15C75", "#f79232", "#707070", "#999999")
DEFAULT_ISSUE_TYPES = ("Epic", "Story", "Task", "Bug", "Sub-task")
SUBTASK_TYPES = frozenset({"sub-task", "subtask"})

STORY_POINTS, SPRINT, EPIC_LINK, RANK = (f"customfield_{n}" for n in (10028, 10020, 10014, 10019))
GREENHOPPER, FLOAT = (
    "com.pyxis.greenhopper.jira:gh-",
    "com.atlassian.jira.plugin.system.customfieldtypes:float",
)
# (id, name, schema) of the custom fields a Jira Software site has; collectors find them by name/schema
CUSTOM_FIELDS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        EPIC_LINK,
        "Epic Link",
        {"type": "any", "custom": f"{GREENHOPPER}epic-link", "customId": 10014},
    ),
    (RANK, "Rank", {"type": "any", "custom": f"{GREENHOPPER}lexo-rank", "customId": 10019}),
    (
        SPRINT,
        "Sprint",
        {"type": "array", "items": "json", "custom": f"{GREENHOPPER}sprint", "customId": 10020},
    ),
    (STORY_POINTS, "Story Points", {"type": "number", "custom": FLOAT, "customId": 10028}),
)
# (id, name, schema type or "array/<items>") of the system fields this fake fills, in `*all` order
SYSTEM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("statuscategorychangedate", "Status Category Changed", "datetime"),
    ("parent", "Parent", "issuelink"),
    ("fixVersions", "Fix versions", "array/version"),
    ("resolution", "Resolution", "resolution"),
    ("priority", "Priority", "priority"),
    ("labels", "Labels", "array/string"),
    ("versions", "Affects versions", "array/version"),
    ("issuelinks", "Linked Issues", "array/issuelinks"),
    ("assignee", "Assignee", "user"),
    ("status", "Status", "status"),
    ("components", "Components", "array/component"),
    ("creator", "Creator", "user"),
    ("subtasks", "Sub-tasks", "array/issuelinks"),
    ("reporter", "Reporter", "user"),
    ("issuetype", "Issue Type", "issuetype"),
    ("project", "Project", "project"),
    ("resolutiondate", "Resolved", "datetime"),
    ("updated", "Updated", "datetime"),
    ("description", "Description", "string"),
    ("summary", "Summary", "string"),
    ("environment", "Environment", "string"),
    ("duedate", "Due date", "date"),
    ("comment", "Comment", "comments-page"),
    ("worklog", "Log Work", "array/worklog"),
    ("created", "Created", "datetime"),
)
NOT_NAVIGABLE = frozenset({"comment", "worklog"})  # left out of search results unless asked for
UNORDERABLE = frozenset(
    {"created", "updated", "resolutiondate", "statuscategorychangedate", "creator", "subtasks"}
)


def system_schema(field_id: str, kind: str) -> dict[str, Any]:
    kind, _, items = kind.partition("/")
    return {"type": kind} | ({"items": items} if items else {}) | {"system": field_id}


CLOUD_ONLY_FIELDS = frozenset({"statuscategorychangedate"})
ALL_FIELD_IDS = tuple(f[0] for f in SYSTEM_FIELDS) + tuple(f[0] for f in CUSTOM_FIELDS)
NAVIGABLE_FIELD_IDS = frozenset(ALL_FIELD_IDS) - NOT_NAVIGABLE
FIELD_NAMES = {f[0]: f[1] for f in SYSTEM_FIELDS} | {f[0]: f[1] for f in CUSTOM_FIELDS}

# changelog `field` -> (fieldtype, fieldId)
CHANGE_FIELDS = {
    "status": ("jira", "status"),
    "assignee": ("jira", "assignee"),
    "reporter": ("jira", "reporter"),
    "labels": ("jira", "labels"),
    "priority": ("jira", "priority"),
    "summary": ("jira", "summary"),
    "description": ("jira", "description"),
    "resolution": ("jira", "resolution"),
    "component": ("jira", "components"),
    "issuetype": ("jira", "issuetype"),
    "parent": ("jira", "parent"),
    "project": ("jira", "project"),
    "key": ("jira", "key"),
    "fix version": ("jira", "fixVersions"),
    "duedate": ("jira", "duedate"),
    "sprint": ("custom", SPRINT),
    "story points": ("custom", STORY_POINTS),
    "epic link": ("custom", EPIC_LINK),
    "rank": ("custom", RANK),
}

try:  # the fast path: orjson encodes a page of issues about six times faster than json
    import orjson

    encode: Callable[[Any], bytes] = orjson.dumps
except ImportError:  # pragma: no cover - orjson is a declared dependency; stay usable without it
    _ENCODER = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":"))

    def encode(payload: Any) -> bytes:
        return _ENCODER.encode(payload).encode()


class ApiError(Exception):
    """An answer other than 200, with Jira's error body."""

    def __init__(self, status: int, *messages: str) -> None:
        super().__init__(messages[0] if messages else str(status))
        self.status, self.messages = status, list(messages)


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"errorMessages": [message], "errors": {}}


def auth(request: Request, state: SandboxState) -> bool:
    """Basic (the bot's e-mail + API token on Cloud, its user name + password on Server) or Bearer (PAT)."""
    token = state.tokens.get(SERVICE)
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if not token or not credentials:
        return False
    if scheme.lower() == "bearer":
        return credentials.strip() == token
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, sep, secret = decoded.partition(":")
        world = state.world
        return (
            bool(sep)
            and secret == token
            and user.lower() in (world.bot_email.lower(), world.bot_account.lower())
        )
    return False


def base_url(request: Request) -> str:
    """Where this Jira lives (".../jira" when mounted), for the `self` links it hands out."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(encode(payload), status, media_type="application/json;charset=UTF-8")


@functools.lru_cache(maxsize=262144)
def jira_time(moment: dt.datetime, tz: ZoneInfo) -> str:
    """Jira's timestamp format, `2025-03-04T10:15:30.000+0000`, in the caller's timezone."""
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{local:%z}"


def adf(text: str) -> dict[str, Any] | None:
    """Plain text as an Atlassian Document Format document (what v3 returns for rich text)."""
    if not text:
        return None
    paragraphs = [p for p in text.split("\n\n") if p] or [text]
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": p}]} for p in paragraphs
        ],
    }


def time_spent(seconds: int) -> str:
    """Jira's duration text with its default 8-hour day and 5-day week: `1w 2d 3h 20m`."""
    minutes = max(seconds, 0) // 60
    parts = []
    for unit, size in (("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)):
        if minutes >= size:
            parts.append(f"{minutes // size}{unit}")
            minutes %= size
    return " ".join(parts) or "0m"


# ---------------------------------------------------------------- the world, indexed once


@dataclass(slots=True)
class Timeline:
    """What changes over time in one issue, as sorted timestamps (clock-independent)."""

    history_ts: list[float]
    comments: list[Comment]  # sorted by time
    comment_ts: list[float]
    worklogs: list[Worklog]  # sorted by start
    worklog_ts: list[float]
    status_ts: list[float]
    status_to: list[tuple[str | None, str | None]]  # (status id, status name) after each change
    assignee_ts: list[float]
    assignee_to: list[str | None]


class JiraData:
    """The world's Jira side with its lookup tables; built once per world, shared by every clock."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.issues: list[Issue] = sorted(world.issues, key=lambda i: i.created)
        self.created_ts = [i.created.timestamp() for i in self.issues]
        self.by_key = {i.key.upper(): n for n, i in enumerate(self.issues)}
        self.by_id = {i.id: n for n, i in enumerate(self.issues)}
        self.key_sort = [_key_sort(i.key) for i in self.issues]
        self.by_project: dict[str, list[int]] = collections.defaultdict(list)
        self.by_type: dict[str, list[int]] = collections.defaultdict(list)
        self.children: dict[str, list[int]] = collections.defaultdict(list)
        for n, issue in enumerate(self.issues):
            self.by_project[issue.project.upper()].append(n)
            self.by_type[issue.issue_type.lower()].append(n)
            if issue.parent_key:
                self.children[issue.parent_key.upper()].append(n)
        self._timelines: list[Timeline | None] = [None] * len(self.issues)
        self._event_ts: list[list[float]] | None = None
        self.lock = threading.RLock()
        self._catalog(world)

    def _catalog(self, world: World) -> None:
        self.people = {p.jira_account_id: p for p in world.people}
        # the collectors' account: its profile timezone renders every date and reads JQL dates
        known = self.people.get(world.bot_account)
        self.bot = Person(
            name=known.name if known else "teamtide bot",
            email=world.bot_email,
            jira_account_id=world.bot_account,
            github_login=known.github_login if known else "",
            jira_timezone=world.bot_timezone,
            in_org_file=False,
        )
        self.people[world.bot_account] = self.bot
        self.tz = ZoneInfo(world.bot_timezone)
        self.statuses = list(world.statuses)
        self.status_by_id = {s.id: s for s in self.statuses}
        self.status_by_name = {s.name.lower(): s for s in self.statuses}
        self.projects = [
            (str(10000 + n), key, world.projects[key])
            for n, key in enumerate(sorted(world.projects))
        ]
        self.project_by_key = {key.upper(): (pid, key, name) for pid, key, name in self.projects}
        type_names = list(DEFAULT_ISSUE_TYPES) + sorted(
            {i.issue_type for i in self.issues} - set(DEFAULT_ISSUE_TYPES)
        )
        self.issue_types = [(str(10000 + n), name) for n, name in enumerate(type_names)]
        self.type_by_name = {name.lower(): (tid, name) for tid, name in self.issue_types}
        self.type_by_id = {tid: (tid, name) for tid, name in self.issue_types}
        priority_names = list(DEFAULT_PRIORITIES) + sorted(
            {i.priority for i in self.issues} - set(DEFAULT_PRIORITIES)
        )
        self.priorities = [(str(n + 1), name) for n, name in enumerate(priority_names)]
        self.priority_by_name = {name: (pid, name) for pid, name in self.priorities}
        pairs = sorted({(i.project, c) for i in self.issues for c in i.components})
        self.components = {pair: str(10000 + n) for n, pair in enumerate(pairs)}
        self.sprints = {
            name: 1 + n
            for n, name in enumerate(sorted({i.sprint for i in self.issues if i.sprint}))
        }

    def timeline(self, n: int) -> Timeline:
        found = self._timelines[n]
        if found is None:
            found = self._timelines[n] = _timeline(self.issues[n])
        return found

    def event_ts(self) -> list[list[float]]:
        """Per issue, the sorted times of everything that moves `updated`: built once, on first use."""
        with self.lock:
            if self._event_ts is None:
                self._event_ts = [
                    sorted(
                        [h.at.timestamp() for h in issue.histories]
                        + [c.at.timestamp() for c in issue.comments]
                        + [w.started.timestamp() for w in issue.worklogs]
                    )
                    for issue in self.issues
                ]
            return self._event_ts

    def status(self, status_id: str | None, name: str | None) -> Status:
        found = self.status_by_id.get(status_id or "") or self.status_by_name.get(
            (name or "").lower()
        )
        return found or Status(id=status_id or "0", name=name or "Unknown", category="undefined")

    def issue_index(self, id_or_key: str, visible: int) -> int:
        n = self.by_id.get(id_or_key)
        if n is None:
            n = self.by_key.get(id_or_key.upper())
        if n is None or n >= visible:
            raise ApiError(404, ISSUE_NOT_FOUND)
        return n


def _key_sort(key: str) -> tuple[str, int]:
    project, _, number = key.rpartition("-")
    return project, int(number) if number.isdigit() else 0


def _timeline(issue: Issue) -> Timeline:
    history_ts = [h.at.timestamp() for h in issue.histories]
    comments = sorted(issue.comments, key=lambda c: c.at)
    worklogs = sorted(issue.worklogs, key=lambda w: w.started)
    comment_ts = [c.at.timestamp() for c in comments]
    worklog_ts = [w.started.timestamp() for w in worklogs]
    status_ts: list[float] = []
    status_to: list[tuple[str | None, str | None]] = []
    assignee_ts: list[float] = []
    assignee_to: list[str | None] = []
    for ts, history in zip(history_ts, issue.histories, strict=True):
        for item in history.items:
            name = item.field.lower()
            if name == "status":
                status_ts.append(ts)
                status_to.append((item.to_id, item.to_string))
            elif name == "assignee":
                assignee_ts.append(ts)
                assignee_to.append(item.to_id)
    return Timeline(
        history_ts,
        comments,
        comment_ts,
        worklogs,
        worklog_ts,
        status_ts,
        status_to,
        assignee_ts,
        assignee_to,
    )


# ---------------------------------------------------------------- what is visible at one clock


class Snapshot:
    """The world as of one clock value: the visible issues, their `updated`, cached query results."""

    def __init__(self, data: JiraData, clock: dt.datetime) -> None:
        self.data, self.clock, self.clock_ts = data, clock, clock.timestamp()
        self.visible = bisect.bisect_right(data.created_ts, self.clock_ts)
        every_event = data.event_ts()
        updated = []
        for n in range(self.visible):
            events = every_event[n]
            created = data.created_ts[n]
            if events and events[-1] <= self.clock_ts:
                last = events[-1]
            else:
                pos = bisect.bisect_right(events, self.clock_ts)
                last = events[pos - 1] if pos else created
            updated.append(max(created, last))
        self.updated = updated
        self.by_updated = sorted(range(self.visible), key=updated.__getitem__)
        self.updated_sorted = [updated[n] for n in self.by_updated]
        self._queries: collections.OrderedDict[Any, list[Any]] = collections.OrderedDict()
        self._lock = threading.Lock()

    def cached(self, key: Any, compute: Callable[[], list[Any]]) -> list[Any]:
        with self._lock:
            if key in self._queries:
                self._queries.move_to_end(key)
                return self._queries[key]
        result = compute()
        with self._lock:
            self._queries[key] = result
            while len(self._queries) > QUERY_CACHE_SIZE:
                self._queries.popitem(last=False)
        return result

    # state of one issue at this clock

    def updated_at(self, n: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.updated[n], dt.UTC)

    def histories(self, n: int) -> list[History]:
        count = bisect.bisect_right(self.data.timeline(n).history_ts, self.clock_ts)
        return self.data.issues[n].histories[:count]

    def comments(self, n: int) -> list[Comment]:
        timeline = self.data.timeline(n)
        return timeline.comments[: bisect.bisect_right(timeline.comment_ts, self.clock_ts)]

    def worklogs(self, n: int) -> list[Worklog]:
        timeline = self.data.timeline(n)
        return timeline.worklogs[: bisect.bisect_right(timeline.worklog_ts, self.clock_ts)]

    def status_steps(self, n: int) -> list[tuple[float, Status]]:
        """(since, status) for the initial status and every change up to the clock."""
        issue, timeline = self.data.issues[n], self.data.timeline(n)
        steps = [(self.data.created_ts[n], self.data.status(None, issue.initial_status))]
        count = bisect.bisect_right(timeline.status_ts, self.clock_ts)
        steps += [
            (timeline.status_ts[k], self.data.status(*timeline.status_to[k])) for k in range(count)
        ]
        return steps

    def assignee(self, n: int) -> str | None:
        timeline = self.data.timeline(n)
        pos = bisect.bisect_right(timeline.assignee_ts, self.clock_ts)
        return timeline.assignee_to[pos - 1] if pos else self.data.issues[n].initial_assignee

    # JQL

    def search(self, query: jql.Query) -> list[int]:
        return self.cached(("jql", query), lambda: self._run(query))

    def _run(self, query: jql.Query) -> list[int]:
        found: Iterable[int] = (
            range(self.visible) if query.where is None else jql.evaluate(query.where, self._clause)
        )
        ids = sorted(found)
        order = query.order or (("key", False),)  # Jira's default order: newest key first
        keys: dict[str, Callable[[int], Any]] = {
            "updated": self.updated.__getitem__,
            "created": self.data.created_ts.__getitem__,
            "key": self.data.key_sort.__getitem__,
        }
        for name, ascending in reversed(order):
            ids.sort(key=keys[name], reverse=not ascending)
        return ids

    def _clause(self, clause: jql.Clause) -> set[int]:
        data = self.data
        if clause.field in jql.DATE_FIELDS:
            moment = jql.parse_date(clause.values[0], clause.field, data.tz, self.clock).timestamp()
            return self._date_range(clause.field, clause.op, moment)
        matched: set[int] = set()
        for value in clause.values:
            matched.update(self._members(clause.field, value))
        if clause.op in ("!=", "not in"):
            return set(range(self.visible)) - matched
        return matched

    def _members(self, field: str, value: str) -> Iterable[int]:
        data = self.data
        if field == "project":
            project = data.project_by_key.get(value.upper()) or next(
                (
                    p
                    for p in data.projects
                    if value in (p[0], p[2]) or value.lower() == p[2].lower()
                ),
                None,
            )
            if project is None:
                raise jql.JQLError(f"The value '{value}' does not exist for the field 'project'.")
            members = data.by_project.get(project[1].upper(), [])
            return members[: bisect.bisect_left(members, self.visible)]
        if field == "issuetype":
            found = data.type_by_name.get(value.lower()) or data.type_by_id.get(value)
            if found is None:
                raise jql.JQLError(f"The value '{value}' does not exist for the field 'issuetype'.")
            members = data.by_type.get(found[1].lower(), [])
            return members[: bisect.bisect_left(members, self.visible)]
        n = data.by_key.get(value.upper(), data.by_id.get(value))
        if n is None or n >= self.visible:
            raise jql.JQLError(f"An issue with key '{value}' does not exist for field 'key'.")
        return (n,)

    def _date_range(self, field: str, op: str, moment: float) -> set[int]:
        # both lists are sorted: `updated` through its index, `created` because issues are
        values, ids = (
            (self.updated_sorted, self.by_updated)
            if field == "updated"
            else (self.data.created_ts, range(self.visible))
        )
        if op in (">=", "<"):
            cut = bisect.bisect_left(values, moment, 0, self.visible)
        else:
            cut = bisect.bisect_right(values, moment, 0, self.visible)
        return set(ids[cut:]) if op.startswith(">") else set(ids[:cut])


# ---------------------------------------------------------------- JSON of one request


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


# ---------------------------------------------------------------- request parsing


def _int(value: Any, default: int, name: str, minimum: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ApiError(
            400, f"The value '{value}' of parameter '{name}' is not a valid integer."
        ) from None
    if number < minimum:
        raise ApiError(400, f"The '{name}' parameter must be at least {minimum}.")
    return number


def _words(values: Iterable[Any] | str | None) -> list[str]:
    """`fields`/`expand` arrive as repeated parameters, comma lists or JSON arrays: flatten them."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [w.strip() for v in values if v is not None for w in str(v).split(",") if w.strip()]


def select_fields(requested: list[str], default: str) -> list[str] | None:
    """The field ids to render, or None for Jira's id-only answer (search/jql's default)."""
    words = requested or [default]
    include: list[str] = []
    exclude = set()
    only_id = True
    for word in words:
        if word.startswith("-"):
            exclude.add(word[1:])
            continue
        if word == "id":
            continue
        only_id = False
        if word == "*all":
            include += ALL_FIELD_IDS
        elif word == "*navigable":
            include += [f for f in ALL_FIELD_IDS if f in NAVIGABLE_FIELD_IDS]
        else:
            include.append(word)
    if only_id:
        return None
    seen: set[str] = set()
    return [f for f in include if not (f in seen or f in exclude or seen.add(f))]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(
            400, "Unexpected character in the request body: it is not valid JSON."
        ) from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def _token(offset: int, digest: int) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode().rstrip("=")


def _offset(token: str | None, digest: int) -> int:
    if not token:
        return 0
    try:
        offset, saved = (
            base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(":")
        )
        if int(saved) != digest:
            raise ValueError
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "The provided next page token is invalid or expired.") from None


# ---------------------------------------------------------------- the service


class JiraService:
    """Holds the indexed world and answers each endpoint; one per sandbox."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._data: JiraData | None = None
        self._snapshots: collections.OrderedDict[dt.datetime, Snapshot] = collections.OrderedDict()
        self._lock = threading.RLock()

    # plumbing

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

    # metadata

    async def server_info(self, request: Request) -> Any:
        data, cloud = self.data(), self.state.jira_cloud
        base = base_url(request)
        return {
            "baseUrl": base,
            "displayUrl": base,
            "version": CLOUD_VERSION if cloud else SERVER_VERSION,
            "versionNumbers": CLOUD_VERSION_NUMBERS if cloud else SERVER_VERSION_NUMBERS,
            "deploymentType": "Cloud" if cloud else "Server",
            "buildNumber": CLOUD_BUILD if cloud else SERVER_BUILD,
            "buildDate": jira_time(dt.datetime(2025, 1, 6, tzinfo=dt.UTC), data.tz),
            "serverTime": jira_time(self.state.world.clock, data.tz),
            "scmInfo": "7f0b5e1c2d4a6b8c9e0f1a2b3c4d5e6f7a8b9c0d",
            "serverTitle": "Jira",
            "serverTimeZone": data.tz.key,
        }

    async def myself(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        body = dict(view.user(view.data.bot.jira_account_id) or {})
        body |= {
            "locale": "en_US",
            "groups": {"size": 0, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        }
        return body

    async def session(self, request: Request) -> Any:
        bot = self.data().bot
        base = base_url(request)
        return {
            "self": f"{base}/rest/api/latest/user?username={bot.jira_account_id}",
            "name": bot.jira_account_id,
            "loginInfo": {"failedLoginCount": 0, "loginCount": 1},
        }

    async def fields_list(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
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

    async def statuses(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        return [view.status(s) for s in view.data.statuses]

    async def status_categories(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        return [view.status_category(key) for key in STATUS_CATEGORIES]

    async def priorities(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        colours = dict(zip(DEFAULT_PRIORITIES, PRIORITY_COLOURS, strict=True))
        return [
            view.priority(name)
            | {"statusColor": colours.get(name, "#707070"), "description": f"{name} priority."}
            for _, name in view.data.priorities
        ]

    async def issue_types(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        return [view.issue_type(tid, name) for tid, name in view.data.issue_types]

    async def projects(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
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

    async def project_search(self, request: Request) -> Any:
        values = await self.projects(request)
        start = _int(request.query_params.get("startAt"), 0, "startAt")
        size = min(_int(request.query_params.get("maxResults"), 50, "maxResults", 1), 100)
        page = values[start : start + size]
        return {
            "self": str(request.url),
            "maxResults": size,
            "startAt": start,
            "total": len(values),
            "isLast": start + size >= len(values),
            "values": page,
        }

    async def project(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        wanted = request.path_params["key"]
        for pid, key, _ in view.data.projects:
            if wanted in (pid, key) or wanted.upper() == key.upper():
                return view.project(key)
        raise ApiError(404, f"No project could be found with key '{wanted}'.")

    async def user(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
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

    # search

    async def search_jql(self, request: Request) -> Any:
        if not self.state.jira_cloud:
            raise ApiError(404, f"null for uri: {request.url}")
        view = self.view(request, request.path_params["version"])
        params = await _body(request) if request.method == "POST" else {}
        query_params = request.query_params
        text = params.get("jql") if request.method == "POST" else query_params.get("jql")
        fields = _words(
            params.get("fields") if request.method == "POST" else query_params.getlist("fields")
        )
        expand = frozenset(
            w.lower()
            for w in _words(
                params.get("expand") if request.method == "POST" else query_params.getlist("expand")
            )
        )
        size = _int(
            params.get("maxResults")
            if request.method == "POST"
            else query_params.get("maxResults"),
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
        start = _offset(token, digest)
        ids = view.snap.search(query)
        page = ids[start : start + size]
        body: dict[str, Any] = {
            "issues": [view.issue(n, selected, expand, SEARCH_JQL_CHANGELOG_CAP) for n in page]
        }
        if "names" in expand:
            body["names"] = {f: FIELD_NAMES[f] for f in (selected or []) if f in FIELD_NAMES}
        if start + size < len(ids):
            body["nextPageToken"] = _token(start + size, digest)
            body["isLast"] = False
        else:
            body["isLast"] = True
        return body

    async def search_classic(self, request: Request) -> Any:
        if self.state.jira_cloud:
            raise ApiError(410, REMOVED_SEARCH)
        view = self.view(request, request.path_params["version"])
        post = request.method == "POST"
        params = await _body(request) if post else {}
        query_params = request.query_params
        text = params.get("jql") if post else query_params.get("jql")
        fields = _words(params.get("fields") if post else query_params.getlist("fields"))
        expand = frozenset(
            w.lower()
            for w in _words(params.get("expand") if post else query_params.getlist("expand"))
        )
        start = _int(params.get("startAt") if post else query_params.get("startAt"), 0, "startAt")
        size = min(
            _int(
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

    # one issue

    async def issue(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        n = view.data.issue_index(request.path_params["key"], view.snap.visible)
        selected = select_fields(_words(request.query_params.getlist("fields")), "*all") or []
        expand = frozenset(w.lower() for w in _words(request.query_params.getlist("expand")))
        return view.issue(n, selected, expand, ISSUE_CHANGELOG_CAP if view.cloud else None)

    async def changelog(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        if not view.cloud:
            raise ApiError(404, f"null for uri: {request.url}")
        n = view.data.issue_index(request.path_params["key"], view.snap.visible)
        start = _int(request.query_params.get("startAt"), 0, "startAt")
        size = min(
            _int(request.query_params.get("maxResults"), CHANGELOG_PAGE_DEFAULT, "maxResults")
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

    async def bulk_changelog(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        if not view.cloud:
            raise ApiError(404, f"null for uri: {request.url}")
        body = await _body(request)
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
        size = _int(body.get("maxResults"), BULK_PAGE_DEFAULT, "maxResults", 1)
        if size > BULK_PAGE_MAX:
            raise ApiError(400, f"maxResults must not be greater than {BULK_PAGE_MAX}.")
        snap = view.snap
        request_key = ("bulk", tuple(str(w) for w in wanted), tuple(str(f) for f in field_ids))
        digest = zlib.crc32(repr(request_key).encode())
        start = _offset(body.get("nextPageToken"), digest)
        entries = snap.cached(
            request_key,
            lambda: self._bulk_entries(snap, [str(w) for w in wanted], {str(f) for f in field_ids}),
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
                {"issueId": view.data.issues[n].id, "changeHistories": h}
                for n, h in grouped.items()
            ]
        }
        if start + size < len(entries):
            out["nextPageToken"] = _token(start + size, digest)
        return out

    @staticmethod
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

    async def comments(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
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
        start = _int(request.query_params.get("startAt"), 0, "startAt")
        default = COMMENTS_DEFAULT if view.cloud else max(len(comments), 1)
        size = min(
            _int(request.query_params.get("maxResults"), default, "maxResults") or default,
            COMMENTS_MAX,
        )
        page = comments[start : start + size]
        return {
            "comments": [view.comment(issue, c) for c in page],
            "maxResults": size,
            "total": len(comments),
            "startAt": start,
        }

    async def worklogs(self, request: Request) -> Any:
        view = self.view(request, request.path_params["version"])
        n = view.data.issue_index(request.path_params["key"], view.snap.visible)
        issue = view.data.issues[n]
        worklogs = view.snap.worklogs(n)
        after = request.query_params.get("startedAfter")
        before = request.query_params.get("startedBefore")
        if after:
            worklogs = [
                w
                for w in worklogs
                if w.started.timestamp() * 1000 >= _int(after, 0, "startedAfter")
            ]
        if before:
            worklogs = [
                w
                for w in worklogs
                if w.started.timestamp() * 1000 < _int(before, 0, "startedBefore")
            ]
        start = _int(request.query_params.get("startAt"), 0, "startAt")
        size = min(
            _int(request.query_params.get("maxResults"), WORKLOGS_DEFAULT, "maxResults")
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

    async def not_found(self, request: Request) -> Any:
        raise ApiError(404, f"null for uri: {request.url}")


def app(state: SandboxState) -> Starlette:
    """The Jira sub-application, behind the shared auth and fault middleware."""
    service = JiraService(state)
    api = "/rest/api/{version}"

    def route(
        path: str, handler: Callable[[Request], Any], methods: Sequence[str] = ("GET",)
    ) -> Route:
        return Route(path, service.endpoint(handler), methods=list(methods))

    routes = [
        route(f"{api}/serverInfo", service.server_info),
        route("/rest/auth/1/session", service.session),
        route(f"{api}/myself", service.myself),
        route(f"{api}/field", service.fields_list),
        route(f"{api}/status", service.statuses),
        route(f"{api}/statuscategory", service.status_categories),
        route(f"{api}/priority", service.priorities),
        route(f"{api}/issuetype", service.issue_types),
        route(f"{api}/project", service.projects),
        route(f"{api}/project/search", service.project_search),
        route(f"{api}/project/{{key}}", service.project),
        route(f"{api}/user", service.user),
        route(f"{api}/search/jql", service.search_jql, ("GET", "POST")),
        route(f"{api}/search", service.search_classic, ("GET", "POST")),
        route(f"{api}/changelog/bulkfetch", service.bulk_changelog, ("POST",)),
        route(f"{api}/issue/{{key}}", service.issue),
        route(f"{api}/issue/{{key}}/changelog", service.changelog),
        route(f"{api}/issue/{{key}}/comment", service.comments),
        route(f"{api}/issue/{{key}}/worklog", service.worklogs),
        route("/{path:path}", service.not_found, ("GET", "POST", "PUT", "DELETE")),
    ]
    return service_app(routes, service=SERVICE, state=state, auth=auth, error_body=error_body)
