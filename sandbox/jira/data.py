"""The world's Jira side, indexed once (`JiraData`), and what is visible at one clock value (`Snapshot`)."""

from __future__ import annotations

import bisect
import collections
import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.jira import jql
from sandbox.jira.protocol import ApiError
from sandbox.jira.schema import (
    DEFAULT_ISSUE_TYPES,
    DEFAULT_PRIORITIES,
    ISSUE_NOT_FOUND,
    QUERY_CACHE_SIZE,
)
from sandbox.world.model import Comment, History, Issue, Person, Status, Worklog, World


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
