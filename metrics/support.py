"""Support requests: who asked, who served, first response, resolution and SLA breaches.

Support requests are the work items matching the config's `support` rule. The
requesting team is the reporter's team at creation; the serving team is the team of
the assignee when the request was done, or, while it is open, of its current
assignee. A request without an assignee (open, or done by nobody assigned) is served
by "unassigned"; a person in no team at that moment gives a null team. A person in
two teams at once yields one row per team.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.facts import Facts
from metrics.intervals import NAT_NS, hours, ns, to_timestamps
from metrics.membership import teams_at

UNASSIGNED = "unassigned"

REQUESTS: tuple[str, ...] = (
    "item_id",
    "key",
    "priority",
    "created_at",
    "done_at",
    "reporter",
    "requesting_team",
    "serving_person",
    "serving_team",
    "first_response_at",
    "first_response_hours",
    "resolution_hours",
    "first_response_target_hours",
    "resolution_target_hours",
)


def target_hours(priority: pd.Series, targets: dict[str, float]) -> np.ndarray:
    """The SLA target of each priority: its own entry (case-insensitive), else `default`,
    else NaN (no target: never a breach)."""
    folded = {str(k).casefold(): float(v) for k, v in targets.items()}
    default = folded.get("default", np.nan)
    return np.array(
        [folded.get(p.casefold(), default) if isinstance(p, str) else default for p in priority],
        dtype=np.float64,
    )


def first_responses(facts: Facts, item_ids: pd.Series) -> np.ndarray:
    """Per given item: ns of the earliest comment or status change by someone other than
    the reporter (at or after creation, by `now`), or NAT_NS.

    An event by an unknown person (None) counts when the reporter is known; when both
    are unknown we cannot tell them apart, so it does not count.
    """
    items = facts.items.set_index("item_id")
    columns = ["item_id", "at", "author"]
    events = pd.concat(
        [facts.frames.comments[columns], facts.frames.transitions[columns]], ignore_index=True
    )
    events = events[events["item_id"].isin(item_ids)]
    if events.empty:
        return np.full(len(item_ids), NAT_NS, np.int64)
    at = ns(events["at"])
    reporter = events["item_id"].map(items["reporter"]).astype(object)
    author = events["author"].astype(object)
    created = ns(events["item_id"].map(items["created_at"]))
    other = (author.notna() & (reporter.isna() | (author != reporter))) | (
        author.isna() & reporter.notna()
    )
    valid = other.to_numpy() & (at != NAT_NS) & (at >= created) & (at <= facts.now_ns)
    firsts = pd.Series(at[valid], index=events["item_id"].to_numpy()[valid]).groupby(level=0).min()
    where = pd.Index(firsts.index).get_indexer(item_ids)
    return np.append(firsts.to_numpy().astype(np.int64), NAT_NS)[where]


def support_requests(facts: Facts) -> pd.DataFrame:
    """Every support request created by `now`, with its teams and times (computed once per
    facts; shared: `breaches` adds its columns to a copy).

    Input: facts (items, comments, transitions, memberships, config). Output columns
    (REQUESTS): first_response_hours (NaN until answered), resolution_hours (created ->
    done_at, NaN while open), the SLA targets for its priority (NaN = none). One row per
    request and team pair (see the module docstring).
    """
    return facts.derived("support_requests", _support_requests)


def _support_requests(facts: Facts) -> pd.DataFrame:
    items = facts.items[facts.items["support"]].reset_index(drop=True)
    if items.empty:
        return pd.DataFrame({c: pd.Series([], dtype=_dtype(c)) for c in REQUESTS})
    tz = facts.timezone
    done = items["done"].to_numpy(bool)
    serving_person = np.where(done, items["assignee_at_done"], items["assignee"]).astype(object)
    serving_person = np.where(pd.isna(serving_person), None, serving_person)
    serving_at = np.where(done, ns(items["done_at"]), facts.now_ns)
    created = ns(items["created_at"])
    response = first_responses(facts, items["item_id"])
    base = pd.DataFrame(
        {
            "item_id": items["item_id"].to_numpy(),
            "key": items["key"].to_numpy(),
            "priority": items["priority"].to_numpy(),
            "created_at": items["created_at"].array,
            "done_at": items["done_at"].array,
            "reporter": items["reporter"].to_numpy(),
            "serving_person": serving_person,
            "first_response_at": to_timestamps(response).array,
            "first_response_hours": np.where(response != NAT_NS, hours(response - created), np.nan),
            "resolution_hours": items["lead_hours"].to_numpy(),
            "first_response_target_hours": target_hours(
                items["priority"], facts.config.support.sla_hours.first_response
            ),
            "resolution_target_hours": target_hours(
                items["priority"], facts.config.support.sla_hours.resolution
            ),
        }
    )
    memberships = facts.frames.memberships
    requesting = teams_at(items["reporter"], items["created_at"], memberships, tz)
    requesting = requesting.rename(columns={"team": "requesting_team"})
    serving = teams_at(pd.Series(serving_person), to_timestamps(serving_at), memberships, tz)
    serving = serving.rename(columns={"team": "serving_team"})
    base["row"] = np.arange(len(base))
    out = base.merge(requesting, on="row", how="left").merge(serving, on="row", how="left")
    out["requesting_team"] = out["requesting_team"].astype(object)
    out["serving_team"] = out["serving_team"].astype(object)
    out.loc[out["serving_person"].isna(), "serving_team"] = UNASSIGNED
    return out[list(REQUESTS)].reset_index(drop=True)


def breaches(requests: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Add `first_response_breach` and `resolution_breach` (bool) as judged at `as_of`.

    A request breaches a target when its time (first response, resolution) is over the
    target, or when it is still waiting (as of `now`) and at `as_of` already older than
    the target. One answered or resolved after `as_of` is judged by its actual time.
    Without a target there is no breach.
    """
    out = requests.copy()
    as_of_ns = int(pd.Timestamp(as_of).value)
    age = hours(as_of_ns - ns(out["created_at"])) if len(out) else np.array([], np.float64)
    for event, target, column in (
        ("first_response_hours", "first_response_target_hours", "first_response_breach"),
        ("resolution_hours", "resolution_target_hours", "resolution_breach"),
    ):
        elapsed = out[event].to_numpy(np.float64)
        waited = np.where(np.isnan(elapsed), age, elapsed)
        goal = out[target].to_numpy(np.float64)
        out[column] = ~np.isnan(goal) & (waited > goal)
    return out


def _dtype(column: str) -> str:
    if column.endswith("_at"):
        return "datetime64[ns, UTC]"
    if column.endswith("_hours"):
        return "float64"
    return "object"
