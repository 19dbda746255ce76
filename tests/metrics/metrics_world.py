"""A small hand-made world for the metrics tests: an org file and a row-by-row frame builder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd

from config.schema import Config
from metrics.facts import Facts
from metrics.frames import Frames

STATUSES = pd.DataFrame(
    [
        ("jira", "To Do", "new"),
        ("jira", "In Progress", "indeterminate"),
        ("jira", "In Review", "indeterminate"),
        ("jira", "Blocked", "indeterminate"),
        ("jira", "Done", "done"),
        ("jira", "Closed", "done"),
    ],
    columns=["source", "name", "category"],
)


def ts(text: str) -> pd.Timestamp:
    """A UTC instant from "YYYY-MM-DD HH:MM"."""
    return pd.Timestamp(text, tz="UTC")


def org_config(timezone: str = "UTC", **extra: Any) -> Config:
    """The org file of the tests: three teams, three categories, SLA targets, Blocked = waiting."""
    data: dict[str, Any] = {
        "org": {
            "timezone": timezone,
            "teams": [{"name": "Infra"}, {"name": "Research"}, {"name": "Enablement"}],
        },
        "workflow": {"stages": {"Blocked": "waiting"}},
        "categories": [
            {
                "name": "Infrastructure",
                "match": {"jira_labels": ["infra"], "github_repos": ["acme/infra-*"]},
            },
            {"name": "DS support", "match": {"jira_issue_types": ["Support Request"]}},
            {
                "name": "Core development",
                "match": {"jira_projects": ["ENG"], "github_repos": ["acme/*"]},
            },
        ],
        "support": {
            "match": {"jira_issue_types": ["Support Request"]},
            "sla_hours": {
                "first_response": {"Highest": 4, "default": 24},
                "resolution": {"Highest": 24, "default": 120},
            },
        },
    }
    data.update(extra)
    return Config.model_validate(data)


class WorldBuilder:
    """Builds the input frames row by row; current status and assignee follow the history."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.items: dict[Any, dict[str, Any]] = {}
        self.transitions: list[dict[str, Any]] = []
        self.assignments: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []
        self.pulls: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        self.memberships: list[dict[str, Any]] = []

    def member(
        self, person: str, team: str, start: str = "2020-01-01", end: str | None = None
    ) -> None:
        self.memberships.append(
            {
                "person": person,
                "team": team,
                "valid_from": dt.date.fromisoformat(start),
                "valid_to": dt.date.fromisoformat(end) if end else None,
            }
        )

    def item(
        self,
        item_id: int,
        created: str,
        status: str = "To Do",
        assignee: str | None = None,
        reporter: str | None = None,
        issue_type: str = "Task",
        project: str = "ENG",
        labels: Iterable[str] = (),
        priority: str = "Medium",
        source: str = "jira",
        done_at: str | None = None,
    ) -> None:
        self.items[item_id] = {
            "item_id": item_id,
            "source": source,
            "key": f"{project}-{item_id}",
            "project": project,
            "issue_type": issue_type,
            "summary": f"item {item_id}",
            "status": status,
            "priority": priority,
            "labels": list(labels),
            "components": [],
            "epic_key": None,
            "created_at": ts(created),
            "done_at": ts(done_at) if done_at else pd.NaT,
            "reporter": reporter,
            "assignee": assignee,
            "url": None,
        }

    def move(self, item_id: int, at: str, to_status: str, author: str | None = None) -> None:
        item = self.items[item_id]
        self.transitions.append(
            {
                "item_id": item_id,
                "at": ts(at),
                "from_status": item["status"],
                "to_status": to_status,
                "author": author,
            }
        )
        item["status"] = to_status

    def assign(self, item_id: int, at: str, person: str | None) -> None:
        item = self.items[item_id]
        self.assignments.append(
            {"item_id": item_id, "at": ts(at), "from_person": item["assignee"], "to_person": person}
        )
        item["assignee"] = person

    def comment(self, item_id: int, at: str, author: str | None) -> None:
        self.comments.append({"item_id": item_id, "at": ts(at), "author": author})

    def pr(
        self,
        pr_id: int,
        author: str | None,
        created: str,
        repo: str = "acme/app",
        ready: str | None = None,
        merged: str | None = None,
        closed: str | None = None,
        draft: bool = False,
        labels: Iterable[str] = (),
        linked: Iterable[int] = (),
    ) -> None:
        self.pulls.append(
            {
                "pr_id": pr_id,
                "repo": repo,
                "number": pr_id,
                "author": author,
                "created_at": ts(created),
                "ready_at": ts(ready) if ready else pd.NaT,
                "first_review_at": pd.NaT,
                "merged_at": ts(merged) if merged else pd.NaT,
                "closed_at": ts(closed or merged) if (closed or merged) else pd.NaT,
                "draft": draft,
                "labels": list(labels),
                "linked_item_ids": list(linked),
                "url": None,
            }
        )

    def review(self, pr_id: int, reviewer: str | None, at: str, state: str = "APPROVED") -> None:
        self.reviews.append(
            {"pr_id": pr_id, "reviewer": reviewer, "state": state, "submitted_at": ts(at)}
        )

    def frames(self) -> Frames:
        def frame(rows: list[dict[str, Any]]) -> pd.DataFrame | None:
            return pd.DataFrame(rows) if rows else None

        found = {
            "items": frame(list(self.items.values())),
            "transitions": frame(self.transitions),
            "statuses": STATUSES,
            "assignments": frame(self.assignments),
            "comments": frame(self.comments),
            "pulls": frame(self.pulls),
            "reviews": frame(self.reviews),
            "memberships": frame(self.memberships),
        }
        return Frames(**{k: v for k, v in found.items() if v is not None})

    def facts(self, now: str) -> Facts:
        return Facts.build(self.frames(), self.config, ts(now))
