"""GitHub's JSON turned into teamtide rows: pure functions, no I/O, tested on recorded payloads.

A pull request's row comes from the list endpoint (`GET /repos/{r}/pulls`), its reviews
and the moment it left draft from its issue timeline (one request gives both), and its
size (additions, deletions) from the detail endpoint, the only place GitHub states it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from collectors.identities import Account
from collectors.parsing import ParseError, optional_time, parse_time

# A Jira key anywhere in a title or branch: `ENG-123 Fix`, `[ENG-123]`, `eng-123-retries`,
# `feature/ENG-123-x`. Only keys of known projects count, so `feature-2` links nothing.
_KEY = re.compile(r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9_]*)-(\d+)(?![A-Za-z0-9])")
# `project = ENG`, `project in (DS, "ENG")`, `project IN (ds,eng)` in a JQL filter
_JQL_PROJECTS = re.compile(
    r"\bproject\s*(?:=\s*(\"[^\"]*\"|'[^']*'|[\w-]+)|in\s*\(([^)]*)\))", re.IGNORECASE
)
EXCERPT_FIELDS = ("number", "id", "title", "state", "draft", "created_at", "updated_at")


def login_of(user: Any) -> str | None:
    """The login of a simple-user object; None for a missing or deleted account."""
    if isinstance(user, Mapping) and isinstance(user.get("login"), str) and user["login"]:
        return user["login"]
    return None


def same_login(a: str | None, b: str | None) -> bool:
    """GitHub logins are case-insensitive."""
    return a is not None and b is not None and a.lower() == b.lower()


# ---------------------------------------------------------------- links to Jira


def projects_in_jql(jql: str | None) -> set[str]:
    """The project keys a Jira filter names (`project in (DS, ENG)`), upper-cased."""
    found: set[str] = set()
    for single, listed in _JQL_PROJECTS.findall(jql or ""):
        for value in [single] if single else listed.split(","):
            key = value.strip().strip("\"'").strip()
            if key:
                found.add(key.upper())
    return found


def linked_keys(texts: Iterable[str | None], projects: Collection[str]) -> list[str]:
    """Jira keys of known projects named in the texts, upper-cased, first mention first."""
    keys: dict[str, None] = {}
    for text in texts:
        for project, number in _KEY.findall(text or ""):
            if project.upper() in projects:
                keys.setdefault(f"{project.upper()}-{number}", None)
    return list(keys)


# ---------------------------------------------------------------- pull requests


@dataclass
class ParsedPull:
    """One pull request's rows: the `pull_requests` row (no `pr_id` yet) and its reviews."""

    row: dict[str, Any]
    reviews: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    sized: bool = False  # additions/deletions were read (from the detail endpoint)

    @property
    def number(self) -> int:
        return int(self.row["number"])


@dataclass(frozen=True)
class ListedPull:
    """What the list endpoint says about a pull request, enough to decide what to fetch."""

    number: int
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    raw: Mapping[str, Any]


def listed_pull(raw: Any) -> ListedPull:
    """The fields paging and follow-up requests depend on; a ParseError when they are broken."""
    if not isinstance(raw, Mapping):
        raise ParseError(f"a pull request is not an object: {type(raw).__name__}")
    number = raw.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise ParseError(f"number is missing or not a positive integer: {number!r}")
    return ListedPull(
        number,
        parse_time(raw.get("updated_at"), "updated_at"),
        optional_time(raw.get("closed_at"), "closed_at"),
        raw,
    )


def parse_pull(raw: Any, repo: str, projects: Collection[str]) -> ParsedPull:
    """A listed pull request as its row, before its timeline and size are known.

    Everything the list endpoint states is checked here, so a broken record is set aside
    before any follow-up request is spent on it.
    """
    listed = listed_pull(raw)
    author = login_of(raw.get("user"))
    if author is None:
        # GitHub names a deleted account "ghost"; a pull request without a user is broken.
        raise ParseError("user (the author) is missing")
    title = raw.get("title")
    if not isinstance(title, str):
        raise ParseError(f"title is missing or not text: {title!r}")
    state = raw.get("state")
    if state not in ("open", "closed"):
        raise ParseError(f"state is neither open nor closed: {state!r}")
    head = raw.get("head") if isinstance(raw.get("head"), Mapping) else {}
    branch = head.get("ref") if isinstance(head.get("ref"), str) else None
    row: dict[str, Any] = {
        "repo": repo,
        "number": listed.number,
        "source_id": str(raw["id"]) if raw.get("id") is not None else None,
        "title": title,
        "branch": branch,
        "author_account": author,
        "state": state,
        "draft": bool(raw.get("draft") or False),
        "created_at": parse_time(raw.get("created_at"), "created_at"),
        "updated_at": listed.updated_at,
        "ready_at": None,
        "first_review_at": None,
        "merged_at": optional_time(raw.get("merged_at"), "merged_at"),
        "closed_at": listed.closed_at,
        "labels": label_names(raw.get("labels")),
        "linked_keys": linked_keys([title, branch], projects),
        "url": raw.get("html_url") if isinstance(raw.get("html_url"), str) else None,
    }
    return ParsedPull(row, accounts=[Account("github", author)])


def add_timeline(pull: ParsedPull, events: Iterable[Mapping[str, Any]]) -> None:
    """Complete a pull request with what its timeline says: reviews and when it left draft."""
    ready_at, reviews = parse_timeline(events)
    author = pull.row["author_account"]
    pull.row["ready_at"] = ready_at
    pull.row["first_review_at"] = first_review_at(reviews, author)
    pull.reviews = reviews
    reviewers = {r["reviewer_account"] for r in reviews if r["reviewer_account"]}
    pull.accounts = [Account("github", author), *(Account("github", r) for r in sorted(reviewers))]


def add_sizes(pull: ParsedPull, detail: Any) -> None:
    """Lines added and deleted, from the detail endpoint (the list does not state them)."""
    if not isinstance(detail, Mapping):
        raise ParseError(f"the pull request detail is not an object: {type(detail).__name__}")
    pull.row["additions"], pull.row["deletions"] = sizes(detail)
    pull.sized = True


def label_names(labels: Any) -> list[str]:
    if not isinstance(labels, list):
        return []
    names = (label.get("name") if isinstance(label, Mapping) else label for label in labels)
    return [name for name in names if isinstance(name, str)]


def sizes(detail: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """Lines added and deleted, as the detail endpoint states them (None when it does not)."""

    def count(name: str) -> int | None:
        value = detail.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return count("additions"), count("deletions")


def parse_review(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """A review from the reviews endpoint or a timeline `reviewed` event; None if it has no id.

    The timeline spells states in lower case, the reviews endpoint in upper case: stored
    upper-case. A pending review has no `submitted_at` and is kept with a null time.
    """
    ident = raw.get("id")
    if ident is None:
        return None
    state = raw.get("state")
    if not isinstance(state, str) or not state:
        raise ParseError(f"review {ident}: state is missing: {state!r}")
    return {
        "review_id": str(ident),
        "reviewer_account": login_of(raw.get("user")),
        "state": state.upper(),
        "submitted_at": optional_time(raw.get("submitted_at"), f"review {ident} submitted_at"),
    }


def parse_reviews(raw: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in (parse_review(item) for item in raw) if r is not None]


def parse_timeline(events: Iterable[Mapping[str, Any]]) -> tuple[dt.datetime | None, list[dict]]:
    """(ready_at, reviews) from an issue timeline (issue events alone give ready_at too).

    ready_at is the first time the pull request left the draft state it was created in:
    its first `ready_for_review`, unless a `convert_to_draft` came first (then it was
    created ready, and ready_at stays null: it was ready at creation).
    """
    ready_at: dt.datetime | None = None
    converted_first = False
    reviews: list[dict[str, Any]] = []
    if not isinstance(events, Iterable) or isinstance(events, str | bytes | Mapping):
        raise ParseError(f"the timeline is not a list: {type(events).__name__}")
    for event in events:
        if not isinstance(event, Mapping):
            raise ParseError(f"a timeline event is not an object: {type(event).__name__}")
        kind = event.get("event")
        if kind == "reviewed":
            review = parse_review(event)
            if review is not None:
                reviews.append(review)
        elif kind == "convert_to_draft" and ready_at is None:
            converted_first = True
        elif kind == "ready_for_review" and ready_at is None and not converted_first:
            ready_at = parse_time(event.get("created_at"), "ready_for_review created_at")
    return ready_at, reviews


def first_review_at(reviews: Iterable[Mapping[str, Any]], author: str | None) -> dt.datetime | None:
    """The first review submitted by someone other than the author.

    Every submitted state counts (COMMENTED, CHANGES_REQUESTED, APPROVED, and DISMISSED:
    a dismissed review still answered the author at that moment); a pending review has
    not been submitted and does not. A review by a deleted account (no login) counts.
    """
    times = [
        r["submitted_at"]
        for r in reviews
        if r.get("submitted_at") is not None and not same_login(r.get("reviewer_account"), author)
    ]
    return min(times, default=None)


# ---------------------------------------------------------------- issues


def parse_issue(raw: Any, repo: str) -> dict[str, Any] | None:
    """A GitHub issue as a `work_items` row; None for a pull request (the issues API lists both).

    GitHub issues have two states and no workflow: open is `todo`, closed is `done`.
    """
    if not isinstance(raw, Mapping):
        raise ParseError(f"an issue is not an object: {type(raw).__name__}")
    if raw.get("pull_request") is not None:
        return None
    number = raw.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise ParseError(f"number is missing or not a positive integer: {number!r}")
    state = raw.get("state")
    if state not in ("open", "closed"):
        raise ParseError(f"state is neither open nor closed: {state!r}")
    title = raw.get("title")
    closed = optional_time(raw.get("closed_at"), "closed_at")
    return {
        "source": "github",
        "key": f"{repo}#{number}",
        "source_id": str(raw["id"]) if raw.get("id") is not None else None,
        "project": repo,
        "type": "Issue",
        "summary": title if isinstance(title, str) else None,
        "status": state,
        "stage": "done" if state == "closed" else "todo",
        "labels": label_names(raw.get("labels")),
        "assignee_account": login_of(raw.get("assignee")),
        "reporter_account": login_of(raw.get("user")),
        "created_at": parse_time(raw.get("created_at"), "created_at"),
        "updated_at": parse_time(raw.get("updated_at"), "updated_at"),
        "done_at": closed if state == "closed" else None,
        "url": raw.get("html_url") if isinstance(raw.get("html_url"), str) else None,
    }


def issue_accounts(row: Mapping[str, Any]) -> list[Account]:
    logins = (row.get("assignee_account"), row.get("reporter_account"))
    return [Account("github", login) for login in logins if login]


# ---------------------------------------------------------------- rejects


def excerpt(raw: Any) -> str:
    """The part of a record a person needs to see why it was set aside (never whole records)."""
    if not isinstance(raw, Mapping):
        return json.dumps(raw, default=str)[:300]
    shown: dict[str, Any] = {name: raw.get(name, "<missing>") for name in EXCERPT_FIELDS}
    user = raw.get("user", "<missing>")
    shown["user"] = login_of(user) if isinstance(user, Mapping) else user
    head = raw.get("head")
    if isinstance(head, Mapping):
        shown["branch"] = head.get("ref")
    return json.dumps(shown, default=str, ensure_ascii=False)
