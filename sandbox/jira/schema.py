"""What this Jira declares: versions, page sizes and caps, messages, the field catalogue, and its formats."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any
from zoneinfo import ZoneInfo

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
