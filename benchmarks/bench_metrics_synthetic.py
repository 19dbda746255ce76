"""Timing sanity check of the metrics engine on synthetic frames of the `medium` size.

Builds random but well-formed frames (150 people in 6 teams, 3 years, 100k work items,
about 1M status changes, 60k pull requests) without the sandbox, then times each step
of a 12-month report. Run: `.venv/bin/python benchmarks/bench_metrics_synthetic.py`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from config.schema import Config
from metrics import allocation, concentration, coupling, load, samples, support
from metrics.facts import Facts
from metrics.frames import Frames
from metrics.summary import summary_from_facts
from metrics.weeks import widen

HOUR = 3_600_000_000_000
START = pd.Timestamp("2023-01-02", tz="UTC")
NOW = pd.Timestamp("2025-12-29 12:00", tz="UTC")
FLOW = ["To Do", "In Progress", "Blocked", "In Progress", "In Review", "In Progress", "In Review"]
FLOW += ["Done", "In Progress", "In Review", "Done", "Closed"]


def build(items: int, people: int, pulls: int, seed: int = 1) -> tuple[Frames, Config]:
    rng = np.random.default_rng(seed)
    teams = [f"Team {i}" for i in range(6)]
    names = np.array([f"Person {i}" for i in range(people)], dtype=object)
    span = int((NOW - START).value)
    members = []
    for i, name in enumerate(names):
        team = teams[i % len(teams)]
        if i % 10 == 0:  # a tenth of the org moves team halfway
            members.append((name, team, dt.date(2023, 1, 1), dt.date(2024, 6, 30)))
            members.append((name, teams[(i + 1) % len(teams)], dt.date(2024, 7, 1), None))
        else:
            members.append((name, team, dt.date(2023, 1, 1), None))
    memberships = pd.DataFrame(members, columns=["person", "team", "valid_from", "valid_to"])

    created = START.value + rng.integers(0, span, items)
    # Most items run the whole flow to Done (with a reopen), some stop early on the way.
    steps = np.where(rng.random(items) < 0.95, len(FLOW), rng.integers(2, len(FLOW), items))
    counts = steps - 1
    first = np.cumsum(counts) - counts
    pos = np.repeat(np.arange(items), counts)
    k = np.arange(len(pos)) - np.repeat(first, counts)
    gaps = rng.exponential(8 * HOUR, len(pos)).astype(np.int64)
    total = np.cumsum(gaps)
    at = created[pos] + total - np.repeat(total[first] - gaps[first], counts)
    flow = np.array(FLOW, dtype=object)
    transitions = pd.DataFrame(
        {
            "item_id": pos,
            "at": pd.to_datetime(at, utc=True),
            "from_status": flow[k],
            "to_status": flow[k + 1],
            "author": names[rng.integers(0, people, len(pos))],
        }
    )
    last = flow[steps - 1]
    assignee = names[rng.integers(0, people, items)]
    types = np.array(["Task", "Bug", "Support Request", "Story"], dtype=object)[
        rng.integers(0, 4, items)
    ]
    items_frame = pd.DataFrame(
        {
            "item_id": np.arange(items),
            "source": "jira",
            "key": [f"ENG-{i}" for i in range(items)],
            "project": np.array(["ENG", "DS", "OPS"], dtype=object)[rng.integers(0, 3, items)],
            "issue_type": types,
            "summary": "",
            "status": last,
            "priority": np.array(["Highest", "Medium", "Low"], dtype=object)[
                rng.integers(0, 3, items)
            ],
            "labels": [["infra"] if r < 0.2 else [] for r in rng.random(items)],
            "components": [[] for _ in range(items)],
            "epic_key": None,
            "created_at": pd.to_datetime(created, utc=True),
            "done_at": pd.NaT,
            "reporter": names[rng.integers(0, people, items)],
            "assignee": assignee,
            "url": None,
        }
    )
    reassigned = rng.random(items) < 0.5
    assignments = pd.DataFrame(
        {
            "item_id": np.arange(items)[reassigned],
            "at": pd.to_datetime(
                created[reassigned] + rng.integers(1, 40, reassigned.sum()) * HOUR, utc=True
            ),
            "from_person": None,
            "to_person": assignee[reassigned],
        }
    )
    n_comments = items * 3
    comment_item = rng.integers(0, items, n_comments)
    comments = pd.DataFrame(
        {
            "item_id": comment_item,
            "at": pd.to_datetime(
                created[comment_item] + rng.integers(0, 200, n_comments) * HOUR, utc=True
            ),
            "author": names[rng.integers(0, people, n_comments)],
        }
    )
    pr_created = START.value + rng.integers(0, span, pulls)
    was_draft = rng.random(pulls) < 0.3
    ready = np.where(
        was_draft, pr_created + rng.integers(1, 48, pulls) * HOUR, np.iinfo(np.int64).min
    )
    merged = pr_created + rng.integers(50, 300, pulls) * HOUR
    pulls_frame = pd.DataFrame(
        {
            "pr_id": np.arange(pulls),
            "repo": np.array(["acme/app", "acme/infra-eks", "acme/models"], dtype=object)[
                rng.integers(0, 3, pulls)
            ],
            "number": np.arange(pulls),
            "author": names[rng.integers(0, people, pulls)],
            "created_at": pd.to_datetime(pr_created, utc=True),
            "ready_at": pd.to_datetime(ready, utc=True),
            "first_review_at": pd.NaT,
            "merged_at": pd.to_datetime(merged, utc=True),
            "closed_at": pd.to_datetime(merged, utc=True),
            "draft": False,
            "labels": [[] for _ in range(pulls)],
            "linked_item_ids": [
                [int(x)] if x >= 0 else []
                for x in np.where(rng.random(pulls) < 0.5, rng.integers(0, items, pulls), -1)
            ],
            "url": None,
        }
    )
    n_reviews = pulls * 2
    review_pr = rng.integers(0, pulls, n_reviews)
    reviews = pd.DataFrame(
        {
            "pr_id": review_pr,
            "reviewer": names[rng.integers(0, people, n_reviews)],
            "state": "APPROVED",
            "submitted_at": pd.to_datetime(
                pr_created[review_pr] + rng.integers(1, 100, n_reviews) * HOUR, utc=True
            ),
        }
    )
    statuses = pd.DataFrame(
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
    config = Config.model_validate(
        {
            "org": {
                "timezone": "Europe/Dublin",
                "teams": [{"name": t} for t in teams],
                "reorgs": [{"date": "2024-07-01", "name": "split"}],
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
        }
    )
    frames = Frames(
        items=items_frame,
        transitions=transitions,
        statuses=statuses,
        assignments=assignments,
        comments=comments,
        pulls=pulls_frame,
        reviews=reviews,
        memberships=memberships,
    )
    return frames, config


def timed(label: str, fn: Callable[[], Any], table: list[tuple[str, float]]) -> Any:
    t0 = time.perf_counter()
    out = fn()
    table.append((label, time.perf_counter() - t0))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--pulls", type=int, default=60_000)
    args = parser.parse_args()
    table: list[tuple[str, float]] = []
    frames, config = timed(
        "build synthetic frames", lambda: build(args.items, args.people, args.pulls), table
    )
    print(
        f"transitions: {len(frames.transitions):,}  items: {len(frames.items):,}  pulls: {len(frames.pulls):,}"
    )
    start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 28)
    window = widen(start, end, config.org.timezone)
    facts = timed("prepare frames", lambda: Facts.build(frames, config, NOW), table)
    timed("stage timeline", lambda: facts.stages, table)
    timed("assignee timeline", lambda: facts.assignees, table)
    timed("item flow + rules", lambda: facts.items, table)
    timed("pr flow + rules", lambda: facts.pulls, table)
    timed("segments (window)", lambda: facts.segments(window), table)
    teams = facts.teams(None)
    days = timed("allocation: team days", lambda: allocation.team_days(facts, window), table)
    timed(
        "allocation: weekly fte", lambda: allocation.weekly_fte(facts, window, teams, days), table
    )
    loads = timed("load: teams", lambda: load.team_load(facts, window, teams), table)
    timed("load: people", lambda: load.person_load(facts, window), table)
    requests = timed("support requests", lambda: support.support_requests(facts), table)
    timed("samples", lambda: (samples.item_samples(facts), samples.pr_samples(facts)), table)
    timed("concentration", lambda: concentration.concentration(facts, window, teams, days), table)
    timed("coupling", lambda: coupling.coupling(requests, loads, window), table)
    fresh = Facts.build(frames, config, NOW)
    report = timed(
        "whole report (fresh facts)", lambda: summary_from_facts(fresh, start, end, None), table
    )
    timed("json.dumps", lambda: json.dumps(report, allow_nan=False), table)
    width = max(len(label) for label, _ in table)
    for label, seconds in table:
        print(f"{label:<{width}}  {seconds:8.3f} s")


if __name__ == "__main__":
    main()
