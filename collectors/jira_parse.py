"""Jira's JSON turned into teamtide rows: pure functions, no I/O, tested on recorded payloads.

Cloud and Server/Data Center differ in small ways that matter: Cloud names people by
`accountId` and Server by user `name`; Cloud's inline changelog is newest-first and cut
short, Server's is complete and oldest-first; status categories may be missing from the
status embedded in an issue (old Server), so stages always come from the `/status` list.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from collectors.identities import Account
from collectors.parsing import ParseError, parse_time
from config.jql import split_order_by

CATEGORY_STAGE = {"new": "todo", "indeterminate": "active", "done": "done"}

# The fields the collector asks for (custom fields are added by id, found through /field)
BASE_FIELDS = (
    "summary",
    "issuetype",
    "project",
    "status",
    "priority",
    "assignee",
    "reporter",
    "created",
    "updated",
    "resolutiondate",
    "labels",
    "components",
    "parent",
    "comment",
)

SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"
EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"
# Company-managed projects call it "Story Points"; team-managed ones "Story point estimate"
STORY_POINT_NAMES = ("story points", "story point estimate")
STORY_POINT_SCHEMAS = (
    "com.atlassian.jira.plugin.system.customfieldtypes:float",
    "com.pyxis.greenhopper.jira:jsw-story-points",
)
EXCERPT_FIELDS = ("summary", "issuetype", "status", "created", "updated", "assignee", "reporter")


def _obj(value: Any) -> Mapping[str, Any]:
    """An optional JSON object: itself, or empty when it is missing or not an object."""
    return value if isinstance(value, Mapping) else {}


def _objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    """A JSON list of objects (missing: empty); a `ParseError` when it is anything else."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{what} is not a list: {type(value).__name__}")
    for entry in value:
        if not isinstance(entry, Mapping):
            raise ParseError(f"one of the {what} is not an object: {entry!r:.80}")
    return value


def _text(value: Any, what: str) -> str | None:
    """Optional text; a `ParseError` when it is something else (a list where a name goes)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParseError(f"{what} is not text: {value!r:.80}")
    return value


def _id(value: Any, what: str) -> str | None:
    """An id or account as Jira writes them (text or a number); a `ParseError` otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ParseError(f"{what} is not an id: {value!r:.80}")
    return str(value)


# ---------------------------------------------------------------- JQL


def jql_time(moment: dt.datetime, tz: ZoneInfo) -> str:
    """A JQL date literal at or before `moment`: minute precision, in the caller's timezone."""
    local = moment.astimezone(tz).replace(second=0, microsecond=0, tzinfo=None)
    # When clocks go back a wall-clock minute happens twice and Jira may read the later
    # one; step back until every reading is at or before the moment.
    while max(local.replace(tzinfo=tz, fold=f).astimezone(dt.UTC) for f in (0, 1)) > moment:
        local -= dt.timedelta(minutes=30)
    return local.strftime("%Y-%m-%d %H:%M")


def issue_jql(configured: str, since: str) -> str:
    """The configured JQL (its own ORDER BY dropped) AND the updated window, oldest first.

    The filter is cut where its ORDER BY clause starts outside every quoted string
    (`config.jql`), never by a pattern that would find "order by" inside a value.
    """
    base, _ = split_order_by(configured)
    window = f'updated >= "{since}"'
    where = f"({base}) AND {window}" if base else window
    return f"{where} ORDER BY updated ASC"


# ---------------------------------------------------------------- custom fields


@dataclass(frozen=True)
class CustomFields:
    """Ids of the custom fields that differ per site (never hard-coded: found through /field)."""

    story_points: str | None = None
    sprint: str | None = None
    epic_link: str | None = None

    def ids(self) -> list[str]:
        return [f for f in (self.story_points, self.sprint, self.epic_link) if f]


def find_custom_fields(fields: Iterable[Mapping[str, Any]]) -> CustomFields:
    """Story points, sprint and epic link, by their schema type and, for points, their name."""
    points: list[tuple[int, str]] = []
    sprint = epic = None
    for entry in fields:
        if not isinstance(entry, Mapping):
            continue
        schema = _obj(entry.get("schema"))
        custom = schema.get("custom")
        field_id = entry.get("id")
        if not custom or not isinstance(field_id, str):
            continue
        name = str(entry.get("name") or "").strip().casefold()
        if custom == SPRINT_SCHEMA and sprint is None:
            sprint = field_id
        elif custom == EPIC_LINK_SCHEMA and epic is None:
            epic = field_id
        elif name in STORY_POINT_NAMES and (
            custom in STORY_POINT_SCHEMAS or schema.get("type") == "number"
        ):
            points.append((STORY_POINT_NAMES.index(name), field_id))
    return CustomFields(
        story_points=min(points)[1] if points else None, sprint=sprint, epic_link=epic
    )


# ---------------------------------------------------------------- statuses and stages


@dataclass(frozen=True)
class StatusInfo:
    id: str | None
    name: str
    category: str  # new | indeterminate | done | undefined


class StatusCatalog:
    """The site's statuses, and the stage each one stands for (config overrides by name)."""

    def __init__(self, statuses: Iterable[StatusInfo], overrides: Mapping[str, str]) -> None:
        self.statuses = list(statuses)
        self.by_id = {s.id: s for s in self.statuses if s.id is not None}
        self.by_name: dict[str, StatusInfo] = {}
        for status in self.statuses:
            self.by_name.setdefault(status.name.casefold(), status)
        self.overrides = {name.casefold(): stage for name, stage in overrides.items()}

    @classmethod
    def from_json(
        cls, raw: Iterable[Mapping[str, Any]], overrides: Mapping[str, str]
    ) -> StatusCatalog:
        statuses = []
        for entry in raw:
            if not isinstance(entry, Mapping):
                continue
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                continue
            category = _obj(entry.get("statusCategory")).get("key")
            category = category if isinstance(category, str) and category else "undefined"
            status_id = entry.get("id")
            statuses.append(
                StatusInfo(None if status_id is None else str(status_id), name, category)
            )
        return cls(statuses, overrides)

    def lookup(self, status_id: Any, name: Any) -> StatusInfo | None:
        """By id first (a renamed status keeps its id), then by name."""
        found = self.by_id.get(str(status_id)) if status_id is not None else None
        if found is None and isinstance(name, str):
            found = self.by_name.get(name.casefold())
        return found

    def stage(self, status: StatusInfo) -> str:
        return self.overrides.get(status.name.casefold()) or CATEGORY_STAGE.get(
            status.category, "todo"
        )

    def rows(self) -> list[dict[str, Any]]:
        """One `statuses` row per name (team-managed projects repeat names with other ids)."""
        rows: dict[str, dict[str, Any]] = {}
        for s in self.statuses:
            rows.setdefault(
                s.name.casefold(),
                {"source": "jira", "source_id": s.id, "name": s.name, "category": s.category},
            )
        return list(rows.values())


# ---------------------------------------------------------------- people


def account_value(user: Mapping[str, Any] | None, cloud: bool) -> str | None:
    """Cloud: the accountId. Server: the user name (what the org file names people by)."""
    if not user:
        return None
    if not isinstance(user, Mapping):
        raise ParseError(f"a user is not an object: {user!r:.80}")
    value = user.get("accountId") if cloud else (user.get("name") or user.get("key"))
    return _id(value, "a user's account")


def account_of(user: Mapping[str, Any] | None, cloud: bool) -> Account | None:
    value = account_value(user, cloud)
    if value is None or user is None:
        return None
    name, email = user.get("displayName"), user.get("emailAddress")
    return Account(
        "jira",
        value,
        name if isinstance(name, str) else None,
        email if isinstance(email, str) else None,
    )


# ---------------------------------------------------------------- one issue


@dataclass(frozen=True)
class Context:
    """What parsing needs to know about the site."""

    cloud: bool
    server_url: str  # for browse URLs
    fields: CustomFields
    statuses: StatusCatalog


@dataclass
class ParsedIssue:
    key: str
    updated_at: dt.datetime
    item: dict[str, Any]
    transitions: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] | None = None  # None: not collected, leave stored rows alone
    worklogs: list[dict[str, Any]] | None = None
    accounts: list[Account] = field(default_factory=list)


@dataclass(frozen=True)
class FollowUps:
    """What the inline record left out and must be fetched separately."""

    changelog: bool
    comments: bool
    worklogs: bool

    def any(self) -> bool:
        return self.changelog or self.comments or self.worklogs


def _page_is_short(page: Any, items_key: str) -> bool:
    if not isinstance(page, Mapping):
        return False
    shown = page.get(items_key)
    total = page.get("total")
    return isinstance(total, int) and total > (len(shown) if isinstance(shown, list) else 0)


def follow_ups(raw: Mapping[str, Any], worklogs: bool) -> FollowUps:
    raw = _obj(raw)
    fields = _obj(raw.get("fields"))
    return FollowUps(
        changelog=_page_is_short(raw.get("changelog"), "histories"),
        comments=_page_is_short(fields.get("comment"), "comments"),
        worklogs=worklogs and _page_is_short(fields.get("worklog"), "worklogs"),
    )


def record_ref(raw: Any, name: str = "key") -> str | None:
    """A search result's `key` (or `id`) as text, whatever the record is; None without one."""
    value = raw.get(name) if isinstance(raw, Mapping) else None
    return str(value) if value is not None and value != "" else None


def issue_updated(raw: Mapping[str, Any]) -> dt.datetime | None:
    """The record's `updated`, or None when it cannot be read (the record is rejected later)."""
    try:
        return parse_time(_obj(_obj(raw).get("fields")).get("updated"), "updated")
    except ParseError:
        return None


def _named(value: Any, what: str, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ParseError(f"missing field {what}")
        return None
    name = value.get("name") if isinstance(value, Mapping) else None
    if not isinstance(name, str):
        raise ParseError(f"{what} has no name: {value!r}")
    return name


def _sprint(value: Any) -> str | None:
    """The active sprint, else the latest one; Cloud gives objects, old Server gives strings."""
    if not value:
        return None
    found: list[tuple[str, str]] = []
    for sprint in value if isinstance(value, list) else [value]:
        if isinstance(sprint, Mapping) and sprint.get("name"):
            found.append((str(sprint.get("state") or "").lower(), str(sprint["name"])))
        elif isinstance(sprint, str):
            name = re.search(r"\bname=(.*?)(?:,\w+=|\]$)", sprint)
            state = re.search(r"\bstate=(\w+)", sprint)
            if name:
                found.append(((state.group(1) if state else "").lower(), name.group(1)))
    if not found:
        return None
    active = [name for state, name in found if state == "active"]
    return active[-1] if active else found[-1][1]


def _points(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ParseError(f"story points are not a number: {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ParseError(f"story points are not a number: {value!r}") from None


def _text_list(value: Any, what: str, attr: str | None = None) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"{what} is not a list: {value!r}")
    if attr is None:
        return [str(v) for v in value]
    return [str(v[attr]) for v in value if isinstance(v, Mapping) and v.get(attr)]


def _is_epic(parent: Mapping[str, Any]) -> bool:
    issue_type = _obj(_obj(parent.get("fields")).get("issuetype"))
    return (
        issue_type.get("hierarchyLevel") == 1
        or str(issue_type.get("name", "")).casefold() == "epic"
    )


def parse_issue(
    raw: Mapping[str, Any],
    ctx: Context,
    *,
    histories: Sequence[Mapping[str, Any]] | None = None,
    comments: Sequence[Mapping[str, Any]] | None = None,
    worklogs: Sequence[Mapping[str, Any]] | None = None,
    with_worklogs: bool = False,
) -> ParsedIssue:
    """An issue and its children as rows; `histories`/`comments`/`worklogs` replace the inline,
    possibly incomplete, lists when the collector fetched them in full."""
    if not isinstance(raw, Mapping):
        raise ParseError(f"the issue is not an object: {raw!r:.80}")
    key = raw.get("key")
    if not isinstance(key, str) or not key:
        raise ParseError("missing field key")
    fields = raw.get("fields")
    if not isinstance(fields, Mapping):
        raise ParseError("missing field fields")
    cloud = ctx.cloud
    accounts: list[Account] = []

    def person(user: Any) -> str | None:
        if user is not None and not isinstance(user, Mapping):
            raise ParseError(f"a user is not an object: {user!r}")
        found = account_of(user, cloud)
        if found is None:
            return None
        accounts.append(found)
        return found.value

    created = parse_time(fields.get("created"), "created")
    updated = parse_time(fields.get("updated"), "updated")
    issue_type = _named(fields.get("issuetype"), "issuetype", required=True)
    raw_status = fields.get("status")
    if not isinstance(raw_status, Mapping):
        raise ParseError("missing field status")
    status = ctx.statuses.lookup(raw_status.get("id"), raw_status.get("name"))
    if status is None:
        raise ParseError(
            f"unknown status {raw_status.get('name')!r} (id {raw_status.get('id')}): "
            "not in the site's /status list"
        )
    stage = ctx.statuses.stage(status)
    project = fields.get("project")
    project_key = _text(_obj(project).get("key"), "the project key")
    parent = fields.get("parent") if isinstance(fields.get("parent"), Mapping) else None
    custom = ctx.fields
    epic_key = fields.get(custom.epic_link) if custom.epic_link else None
    parent_key = str(parent["key"]) if parent is not None and parent.get("key") else None
    if parent_key and not epic_key and _is_epic(parent):
        epic_key = parent_key  # Cloud's hierarchy: a story's parent is its epic
    assignee = person(fields.get("assignee"))
    reporter = person(fields.get("reporter"))

    if histories is None:
        histories = _obj(raw.get("changelog")).get("histories")
    histories = _objects(histories, "changelog entries")
    aliases = {} if cloud else _server_user_keys(fields, histories)
    transitions, assignments = _changes(histories, ctx, accounts, aliases)
    done_at = _done_at(transitions, created) if stage == "done" else None

    item = {
        "source": "jira",
        "key": key,
        "source_id": str(raw["id"]) if raw.get("id") is not None else None,
        "project": project_key or key.rsplit("-", 1)[0],
        "type": issue_type,
        "summary": _text(fields.get("summary"), "summary"),
        "status": status.name,
        "stage": stage,
        "priority": _named(fields.get("priority"), "priority"),
        "labels": _text_list(fields.get("labels"), "labels"),
        "components": _text_list(fields.get("components"), "components", "name"),
        "parent_key": parent_key,
        "epic_key": str(epic_key) if epic_key else None,
        "assignee_account": assignee,
        "reporter_account": reporter,
        "created_at": created,
        "updated_at": updated,
        "done_at": done_at,
        "story_points": _points(fields.get(custom.story_points)) if custom.story_points else None,
        "sprint": _sprint(fields.get(custom.sprint)) if custom.sprint else None,
        "url": f"{ctx.server_url}/browse/{key}",
    }
    parsed = ParsedIssue(key, updated, item, transitions, assignments, accounts=accounts)
    if comments is None:
        inline = fields.get("comment")
        comments = inline.get("comments") or [] if isinstance(inline, Mapping) else None
    if comments is not None:
        parsed.comments = [_comment(c, person) for c in _objects(comments, "comments")]
    if with_worklogs:
        if worklogs is None:
            inline = fields.get("worklog")
            worklogs = inline.get("worklogs") or [] if isinstance(inline, Mapping) else []
        parsed.worklogs = [_worklog(w, person) for w in _objects(worklogs, "worklogs")]
    return parsed


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])")
# Jira's default time tracking: an 8-hour day and a 5-day week
_DURATION_UNITS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}
EXCERPT_CHARS = 300


def duration_seconds(text: Any) -> int:
    """Jira's duration text (`1w 2d 3h 20m`) in seconds."""
    parts = _DURATION.findall(text) if isinstance(text, str) else []
    seconds = sum(float(n) * _DURATION_UNITS[unit] for n, unit in parts)
    if not parts or _DURATION.sub("", text).strip() or not math.isfinite(seconds):
        raise ParseError(f"a worklog's time spent is not a duration: {text!r:.80}")
    return round(seconds)


def _comment(raw: Mapping[str, Any], person: Any) -> dict[str, Any]:
    comment_id = _id(raw.get("id"), "a comment's id")
    if comment_id is None:
        raise ParseError("a comment has no id")
    return {
        "comment_id": comment_id,
        "at": parse_time(raw.get("created"), "comment created"),
        "author_account": person(raw.get("author")),
    }


def _worklog(raw: Mapping[str, Any], person: Any) -> dict[str, Any]:
    worklog_id = _id(raw.get("id"), "a worklog's id")
    if worklog_id is None:
        raise ParseError("a worklog has no id")
    seconds = raw.get("timeSpentSeconds")
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        seconds = duration_seconds(raw.get("timeSpent"))  # Jira before 5 gave only the text
    return {
        "worklog_id": worklog_id,
        "started_at": parse_time(raw.get("started"), "worklog started"),
        "author_account": person(raw.get("author")),
        "seconds": seconds,
    }


def _server_user_keys(
    fields: Mapping[str, Any], histories: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Server's changelog names users by key (JIRAUSER10100 for newer users), we by name."""
    users = [fields.get(name) for name in ("assignee", "reporter", "creator")]
    users += [h.get("author") for h in histories]
    return {
        str(u["key"]): str(u["name"])
        for u in users
        if isinstance(u, Mapping) and u.get("key") and u.get("name")
    }


def _changes(
    histories: Sequence[Mapping[str, Any]],
    ctx: Context,
    accounts: list[Account],
    aliases: Mapping[str, str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Status and assignee changes from changelog histories, oldest first."""
    transitions: dict[tuple[str, str], dict[str, Any]] = {}
    assignments: dict[str, dict[str, Any]] = {}
    cloud, catalog = ctx.cloud, ctx.statuses
    for history in histories:
        change_id = _id(history.get("id"), "a changelog entry's id")
        if change_id is None:
            raise ParseError("a changelog entry has no id")
        items = _objects(history.get("items"), f"items of changelog entry {change_id}")
        wanted = [i for i in items if str(i.get("field", "")).casefold() in ("status", "assignee")]
        if not wanted:
            continue
        at = parse_time(history.get("created"), "changelog created")
        author = account_of(history.get("author"), cloud)
        if author is not None:
            accounts.append(author)
        author_value = author.value if author else None
        for item in wanted:
            if item.get("fieldtype", "jira") != "jira":
                continue  # a custom field that happens to be called "Status"
            if str(item["field"]).casefold() == "status":
                new = catalog.lookup(item.get("to"), item.get("toString"))
                old = catalog.lookup(item.get("from"), item.get("fromString"))
                to_name = new.name if new else _text(item.get("toString"), "a status name")
                if not to_name:
                    raise ParseError(f"changelog entry {change_id} moves to no status")
                transitions[change_id, to_name] = {
                    "change_id": change_id,
                    "at": at,
                    "author_account": author_value,
                    "from_status": old.name
                    if old
                    else _text(item.get("fromString"), "a status name"),
                    "to_status": to_name,
                    "from_stage": catalog.stage(old) if old else None,
                    "to_stage": catalog.stage(new) if new else None,
                }
            else:
                # Cloud: from/to hold account ids (tmp*AccountId during the GDPR migration);
                # Server: user keys. The *String values are display names.
                old_id = _id(item.get("tmpFromAccountId") or item.get("from"), "an assignee")
                new_id = _id(item.get("tmpToAccountId") or item.get("to"), "an assignee")
                old_id, new_id = aliases.get(old_id, old_id), aliases.get(new_id, new_id)
                for value, name in (
                    (old_id, item.get("fromString")),
                    (new_id, item.get("toString")),
                ):
                    if value:
                        accounts.append(Account("jira", value, _text(name, "a user name")))
                assignments[change_id] = {
                    "change_id": change_id,
                    "at": at,
                    "author_account": author_value,
                    "from_account": str(old_id) if old_id else None,
                    "to_account": str(new_id) if new_id else None,
                }
    ordered = sorted(transitions.values(), key=lambda t: (t["at"], _id_order(t["change_id"])))
    return ordered, sorted(assignments.values(), key=lambda a: (a["at"], _id_order(a["change_id"])))


def _id_order(change_id: str) -> tuple[int, str]:
    return (int(change_id), "") if change_id.isdigit() else (0, change_id)


def _done_at(transitions: Sequence[Mapping[str, Any]], created: dt.datetime) -> dt.datetime:
    """The start of the final run of done stages: a move Done -> Closed is no new entry."""
    entry = None
    for t in transitions:
        if t["to_stage"] == "done" and t["from_stage"] != "done":
            entry = t["at"]
    return entry or created  # created straight into done


def excerpt(raw: Mapping[str, Any]) -> str:
    """The part of a record a person needs to see why it was set aside (never whole records)."""
    if not isinstance(raw, Mapping):
        return json.dumps(raw, default=str, ensure_ascii=False)[:EXCERPT_CHARS]
    fields = _obj(raw.get("fields"))
    shown = {"key": raw.get("key"), "id": raw.get("id")}
    shown["fields"] = {name: fields.get(name, "<missing>") for name in EXCERPT_FIELDS}
    for user in ("assignee", "reporter"):
        value = shown["fields"].get(user)
        if isinstance(value, Mapping):
            shown["fields"][user] = value.get("accountId") or value.get("name")
    status = shown["fields"].get("status")
    if isinstance(status, Mapping):
        shown["fields"]["status"] = {"id": status.get("id"), "name": status.get("name")}
    issue_type = shown["fields"].get("issuetype")
    if isinstance(issue_type, Mapping):
        shown["fields"]["issuetype"] = issue_type.get("name")
    return json.dumps(shown, default=str, ensure_ascii=False)
