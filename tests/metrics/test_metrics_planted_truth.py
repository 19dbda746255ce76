"""The engine recovers the sandbox generator's planted truth, fed straight from the world model.

No servers and no database here: the world's issues and pull requests become the input
frames the way a loader would shape them (accounts mapped to org-file names, linked
keys found in PR titles and branches), so any difference is the engine's.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
import pytest

from config.schema import Config
from metrics.frames import Frames, memberships_from_config
from metrics.summary import summary
from sandbox.orgfile import org_file
from sandbox.world.generate import generate
from sandbox.world.model import World
from sandbox.world.truth import truth_report

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9]*-\d+")


def frames_from_world(world: World) -> Frames:
    by_jira = {p.jira_account_id: p.name for p in world.people if p.in_org_file}
    by_login = {p.github_login: p.name for p in world.people if p.in_org_file}
    item_of = {issue.key: int(issue.id) for issue in world.issues}
    items, transitions, assignments, comments = [], [], [], []
    for issue in world.issues:
        item = int(issue.id)
        for history in issue.histories:
            for change in history.items:
                if change.field == "status":
                    author = by_jira.get(history.author)
                    transitions.append(
                        (item, history.at, change.from_string, change.to_string, author)
                    )
                elif change.field == "assignee":
                    assignments.append(
                        (item, history.at, by_jira.get(change.from_id), by_jira.get(change.to_id))
                    )
        comments += [(item, c.at, by_jira.get(c.author)) for c in issue.comments]
        items.append(
            {
                "item_id": item,
                "source": "jira",
                "key": issue.key,
                "project": issue.project,
                "issue_type": issue.issue_type,
                "status": issue.initial_status,  # the history leads to the current one
                "priority": issue.priority,
                "labels": issue.labels,
                "components": issue.components,
                "epic_key": issue.epic_key,
                "created_at": issue.created,
                "reporter": by_jira.get(issue.reporter),
                "assignee": by_jira.get(issue.initial_assignee),
            }
        )
    pulls, reviews = [], []
    for pr in world.pulls:
        keys = [k.upper() for k in _KEY.findall(f"{pr.title} {pr.branch}")]
        pulls.append(
            {
                "pr_id": pr.id,
                "repo": pr.repo,
                "number": pr.number,
                "author": by_login.get(pr.author),
                "created_at": pr.created,
                "ready_at": pr.draft_until,
                "merged_at": pr.merged_at,
                "closed_at": pr.closed_at,
                "draft": pr.still_draft,
                "labels": pr.labels,
                "linked_item_ids": list(dict.fromkeys(item_of[k] for k in keys if k in item_of)),
            }
        )
        reviews += [(pr.id, by_login.get(r.user), r.state, r.submitted_at) for r in pr.reviews]
    config = world_config(world)
    return Frames(
        items=pd.DataFrame(items),
        transitions=pd.DataFrame(
            transitions, columns=["item_id", "at", "from_status", "to_status", "author"]
        ),
        statuses=pd.DataFrame(
            [("jira", s.name, s.category) for s in world.statuses],
            columns=["source", "name", "category"],
        ),
        assignments=pd.DataFrame(
            assignments, columns=["item_id", "at", "from_person", "to_person"]
        ),
        comments=pd.DataFrame(comments, columns=["item_id", "at", "author"]),
        pulls=pd.DataFrame(pulls),
        reviews=pd.DataFrame(reviews, columns=["pr_id", "reviewer", "state", "submitted_at"]),
        memberships=memberships_from_config(config),
    )


def world_config(world: World) -> Config:
    return Config.model_validate(
        org_file(world, jira_url="http://jira.invalid", github_url="http://github.invalid")
    )


@pytest.fixture(scope="module")
def reports() -> tuple[dict[str, Any], dict[str, Any]]:
    world = generate(7, "tiny", dt.date(2025, 6, 30))
    truth = truth_report(world)
    start, end = dt.date.fromisoformat(truth["from"]), dt.date.fromisoformat(truth["to"])
    mine = summary(frames_from_world(world), world_config(world), start, end, None, world.clock)
    return mine, truth


def close(mine: float | None, planted: float | None) -> bool:
    if mine is None or planted is None:
        return mine is planted
    return abs(mine - planted) <= 1e-6 * max(1.0, abs(planted))


def groups(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every team block and the org block ("(all)")."""
    return [*report["teams"], report["org"]]


def test_allocation_matches_the_planted_shares_and_weekly_fte(reports):
    mine, truth = reports
    teams = {t["team"]: t for t in groups(mine)}
    assert [t["team"] for t in truth["teams"]] and all(t["team"] in teams for t in groups(truth))
    for planted in groups(truth):
        got = teams[planted["team"]]["allocation"]
        wrong = [
            c for c, v in planted["allocation"]["share"].items() if not close(got["share"][c], v)
        ]
        assert not wrong, (planted["team"], wrong)
        assert close(got["unplanned_share"], planted["allocation"]["unplanned_share"])
        for week, want in zip(got["weekly"], planted["allocation"]["weekly"], strict=True):
            assert week["week"] == want["week"]
            assert all(close(week["fte"][c], v) for c, v in want["fte"].items()), week["week"]


def test_load_matches_the_planted_series_and_states(reports):
    mine, truth = reports
    teams = {t["team"]: t for t in groups(mine)}
    for planted in groups(truth):
        got = teams[planted["team"]]["load"]
        for key in (
            "baseline",
            "cv",
            "flood_weeks",
            "drought_weeks",
            "longest_flood",
            "longest_drought",
        ):
            assert close(got[key], planted["load"][key]), (planted["team"], key)
        for week, want in zip(got["weekly"], planted["load"]["weekly"], strict=True):
            assert close(week["load"], want["load"]) and week["state"] == want["state"], week[
                "week"
            ]


def test_support_before_and_after_the_reorg_matches_the_planted_medians(reports):
    mine, truth = reports
    got = {(r["team"], r["metric"]): r for r in mine["reorgs"][0]["comparisons"]}
    for planted in truth["reorgs"][0]["comparisons"]:
        row = got[(planted["team"], planted["metric"])]
        for key in ("before_median", "after_median", "n_before", "n_after"):
            assert close(row[key], planted[key]), (planted["team"], planted["metric"], key)
