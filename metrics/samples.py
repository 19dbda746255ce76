"""Turnaround samples attributed to teams at the moment that places them in time.

A done item belongs to the team(s) of its assignee when it was done, at its done
instant; a pull request to its author's team(s) at creation, at its creation instant;
a support request to its serving team (and, for the requester's view, its requesting
team) at its creation instant. Rows whose person had no team carry team None, so
org-wide figures can still use them (deduplicated by id).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.facts import Facts
from metrics.membership import teams_at

ALL_TEAMS = "(all)"


def _with_teams(frame: pd.DataFrame, person: str, at: str, facts: Facts) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    found = teams_at(frame[person], frame[at], facts.frames.memberships, facts.timezone)
    out = frame.assign(row=np.arange(len(frame))).merge(found, on="row", how="left")
    out["team"] = out["team"].astype(object)
    return out.drop(columns="row")


def item_samples(facts: Facts) -> pd.DataFrame:
    """Done items with their team at the done instant (computed once per facts; shared).

    Output columns: item_id, team, at (done_at), cycle_hours, lead_hours, active_hours,
    flow_efficiency, skipped_start. One row per team of the assignee when done.
    """
    return facts.derived("item_samples", _item_samples)


def _item_samples(facts: Facts) -> pd.DataFrame:
    items = facts.items[facts.items["done"]]
    columns = ["item_id", "assignee_at_done", "done_at", "cycle_hours", "lead_hours"]
    columns += ["active_hours", "flow_efficiency", "skipped_start"]
    out = _with_teams(items[columns], "assignee_at_done", "done_at", facts)
    return out.rename(columns={"done_at": "at"}).drop(columns="assignee_at_done")


def pr_samples(facts: Facts) -> pd.DataFrame:
    """Pull requests with their author's team at creation (computed once per facts; shared).

    Output columns: pr_id, team, at (created_at), first_review_hours, merge_hours,
    draft_hours, pickup_hours, review_hours.
    """
    return facts.derived("pr_samples", _pr_samples)


def _pr_samples(facts: Facts) -> pd.DataFrame:
    columns = ["pr_id", "author", "created_at", "first_review_hours", "merge_hours"]
    columns += ["draft_hours", "pickup_hours", "review_hours"]
    out = _with_teams(facts.pulls[columns], "author", "created_at", facts)
    return out.rename(columns={"created_at": "at"}).drop(columns="author")


TURNAROUND_METRICS: tuple[str, ...] = (
    "cycle_time_hours",
    "lead_time_hours",
    "pr_first_review_hours",
    "pr_merge_hours",
    "support_first_response_hours",
    "support_resolution_hours",
    "requested_support_first_response_hours",
    "requested_support_resolution_hours",
)


def long_samples(items: pd.DataFrame, pulls: pd.DataFrame, requests: pd.DataFrame) -> pd.DataFrame:
    """Every turnaround sample as (team, metric, id, at, value), plus org-wide rows.

    Input: `item_samples`, `pr_samples`, `support_requests` outputs. Output columns:
    team (a team, or ALL_TEAMS for the org-wide view, deduplicated by id), metric (one
    of TURNAROUND_METRICS), id, at, value (hours; samples without a value left out).
    The `requested_*` metrics attribute support requests to the requesting team.
    """
    parts: list[pd.DataFrame] = []

    def add(frame: pd.DataFrame, team: str, id_column: str, value: str, metric: str) -> None:
        part = pd.DataFrame(
            {
                "team": frame[team].astype(object).to_numpy(),
                "metric": metric,
                "id": frame[id_column].to_numpy(),
                "at": frame["at"].array,
                "value": frame[value].to_numpy(np.float64),
            }
        )
        part = part[part["value"].notna()]
        org = part.drop_duplicates("id").assign(team=ALL_TEAMS)
        parts.append(part[part["team"].notna()])
        if not metric.startswith("requested_"):
            parts.append(org)

    requests = requests.rename(columns={"created_at": "at"})
    add(items, "team", "item_id", "cycle_hours", "cycle_time_hours")
    add(items, "team", "item_id", "lead_hours", "lead_time_hours")
    add(pulls, "team", "pr_id", "first_review_hours", "pr_first_review_hours")
    add(pulls, "team", "pr_id", "merge_hours", "pr_merge_hours")
    add(requests, "serving_team", "item_id", "first_response_hours", "support_first_response_hours")
    add(requests, "serving_team", "item_id", "resolution_hours", "support_resolution_hours")
    add(
        requests,
        "requesting_team",
        "item_id",
        "first_response_hours",
        "requested_support_first_response_hours",
    )
    add(
        requests,
        "requesting_team",
        "item_id",
        "resolution_hours",
        "requested_support_resolution_hours",
    )
    frame = pd.concat(parts, ignore_index=True)
    return frame.drop_duplicates(["team", "metric", "id"]).reset_index(drop=True)
