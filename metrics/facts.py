"""Per-item and per-PR facts derived once from the input frames and shared by every metric.

`Facts.build(frames, config, now)` normalises the frames and lazily computes the stage
and assignee timelines, item and PR turnaround and rule matches; the metric modules
read these instead of recomputing them, and keep their own window-free tables (the
turnaround samples, the support requests) here through `Facts.derived`, so that the
reports of several windows over the same facts compute them once. Nothing here reads
the clock: `now` is given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from config.schema import Config
from metrics.frames import Frames
from metrics.intervals import NAT_NS, ns
from metrics.membership import member_days
from metrics.rules import item_rules, pull_rules
from metrics.stages import StageTimeline, stage_timeline
from metrics.timeline import (
    AssigneeTimeline,
    Segments,
    assignee_at,
    assignee_timeline,
    work_segments,
)
from metrics.turnaround import item_flow, pr_flow
from metrics.weeks import Window


def utc_now(now: dt.datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(now)
    if stamp.tzinfo is None:
        raise ValueError(f"`now` must be timezone-aware, got {now!r}")
    return stamp.tz_convert("UTC").as_unit("ns")


@dataclass
class Facts:
    """Normalised frames plus lazily derived tables, all as of `now`."""

    frames: Frames
    config: Config
    now: pd.Timestamp
    _segments: dict[Window, Segments] = field(default_factory=dict, repr=False)
    _derived: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, frames: Frames, config: Config, now: dt.datetime | pd.Timestamp) -> Facts:
        return cls(frames=frames.prepared(), config=config, now=utc_now(now))

    @property
    def now_ns(self) -> int:
        return int(self.now.value)

    @property
    def timezone(self) -> str:
        return self.config.org.timezone

    @cached_property
    def stages(self) -> StageTimeline:
        f = self.frames
        return stage_timeline(f.items, f.transitions, f.statuses, self.config, self.now)

    @cached_property
    def assignees(self) -> AssigneeTimeline:
        return assignee_timeline(self.stages, self.frames.assignments)

    @cached_property
    def items(self) -> pd.DataFrame:
        """One row per item created by `now`, aligned with `stages.items` (row = pos).

        Columns: item_flow's (item_id, created_at, started_at, done, done_at, cycle_hours,
        lead_hours, active_hours, flow_efficiency, skipped_start), item_rules' (category,
        unplanned, support), the item's source, key, project, issue_type, priority,
        reporter, assignee (as of now) and assignee_at_done (None unless done).
        """
        base = self.stages.items
        flow = item_flow(self.stages)
        rules = item_rules(base, self.config).drop(columns="item_id")
        done_ns = ns(flow["done_at"])
        done = done_ns != NAT_NS
        positions = np.arange(len(base))
        at_now = assignee_at(self.assignees, positions, np.full(len(base), self.now_ns, np.int64))
        at_done = np.full(len(base), None, dtype=object)
        at_done[done] = assignee_at(self.assignees, positions[done], done_ns[done])
        extra = pd.DataFrame(
            {
                "source": base["source"].astype(object).to_numpy(),
                "key": base["key"].astype(object).to_numpy(),
                "project": base["project"].astype(object).to_numpy(),
                "issue_type": base["issue_type"].astype(object).to_numpy(),
                "priority": base["priority"].astype(object).to_numpy(),
                "reporter": base["reporter"].astype(object).to_numpy(),
                "assignee": at_now,
                "assignee_at_done": at_done,
            }
        )
        return pd.concat([flow, rules, extra], axis=1)

    @cached_property
    def pulls(self) -> pd.DataFrame:
        """One row per PR created by `now`: pr_flow's columns, pull_rules' (linked_item_id,
        category, unplanned, support) and linked_item_ids.

        A linked item outside the span read (`frames.linked_items`) still gives the PR its
        category and flags.
        """
        f = self.frames
        flow = pr_flow(f.pulls, f.reviews, self.now)
        created = ns(f.pulls["created_at"])
        source = f.pulls[(created != NAT_NS) & (created <= self.now_ns)].reset_index(drop=True)
        known = self.items[["item_id", "category", "unplanned", "support"]]
        if len(f.linked_items):
            known = pd.concat([known, item_rules(f.linked_items, self.config)], ignore_index=True)
        rules = pull_rules(source, known, self.config)
        return pd.concat(
            [
                flow,
                rules.drop(columns="pr_id"),
                source[["closed_at", "linked_item_ids"]].reset_index(drop=True),
            ],
            axis=1,
        )

    def derived(self, name: str, make: Callable[[Facts], pd.DataFrame]) -> pd.DataFrame:
        """`make(self)`, computed once per facts and kept under `name`.

        For tables that depend on the facts alone, not on a window (a report of the
        current period and one of the period before share them). Like `items`, the frame
        is shared: callers must not change it in place.
        """
        if name not in self._derived:
            self._derived[name] = make(self)
        return self._derived[name]

    def segments(self, window: Window) -> Segments:
        """Stage x assignee segments overlapping the window (cached per window)."""
        if window not in self._segments:
            self._segments[window] = work_segments(
                self.stages, self.assignees, window.start_ns, window.end_ns
            )
        return self._segments[window]

    def member_days(self, window: Window) -> pd.DataFrame:
        """(person, team, day) of the window; see `membership.member_days`."""
        return member_days(self.frames.memberships, window)

    def membership_teams(self) -> list[str]:
        """Every team named in the memberships read, sorted."""
        return sorted(set(self.frames.memberships["team"].dropna().astype(str)))

    def teams(self, selected: list[str] | None = None) -> list[str]:
        """See `choose_teams`."""
        return choose_teams(self.config, self.membership_teams(), selected)


def choose_teams(
    config: Config, membership_teams: list[str], selected: list[str] | None = None
) -> list[str]:
    """The teams to report: `selected`, else the org file's, else those in memberships.

    A selected name that is neither in the org file nor in any membership is an error
    (a typo would otherwise show as a team with no data).
    """
    known = [*config.team_names(), *membership_teams]
    if selected is not None:
        unknown = [t for t in selected if t not in known]
        if unknown:
            raise ValueError(
                f"unknown team {unknown[0]!r}: the org file and memberships know "
                f"{', '.join(dict.fromkeys(known)) or 'no teams'}"
            )
        return list(dict.fromkeys(selected))
    return config.team_names() or list(dict.fromkeys(known))
