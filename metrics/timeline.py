"""Who held each item when: the assignee timeline and its intersection with the stage timeline.

Both timelines cut an item's life [created, now) into runs, so their intersection is
the merge of the two sets of change instants: at every instant where either the stage
or the assignee changes a new segment starts, carrying the stage and the assignee
then in force. This is the interval arithmetic behind allocation and load, done in
one sort and two forward fills instead of a loop over items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.frames import prepare
from metrics.intervals import ns, order_by
from metrics.stages import StageTimeline

UNASSIGNED = -1
_UNSET = -2


@dataclass(frozen=True)
class AssigneeTimeline:
    """Assignee runs per item (sorted by item then time): from `at_ns` on, `person` holds it.

    `person` codes index `names`; -1 = unassigned. The first row of an item is its
    creation.
    """

    pos: np.ndarray
    at_ns: np.ndarray
    person: np.ndarray
    names: np.ndarray
    first: np.ndarray


def assignee_timeline(stages: StageTimeline, assignments: pd.DataFrame) -> AssigneeTimeline:
    """Assignee changes up to `now` (changes before creation read as at creation).

    Input: assignments (item_id, at, from_person, to_person). The assignee at creation is
    the first change's from_person (None = unassigned), else the current assignee.
    """
    items = stages.items
    changes = prepare("assignments", assignments)
    index = pd.Index(items["item_id"])
    pos = index.get_indexer(changes["item_id"]) if len(changes) else np.array([], np.int64)
    at = ns(changes["at"])
    keep = (pos >= 0) & (at != np.iinfo(np.int64).min) & (at <= stages.now_ns)
    changes, pos, at = changes[keep].reset_index(drop=True), pos[keep], at[keep]
    created = ns(items["created_at"])
    at = np.maximum(at, created[pos]) if len(at) else at
    order = order_by(pos, at)
    changes, pos, at = changes.iloc[order].reset_index(drop=True), pos[order], at[order]

    initial = items["assignee"].astype(object).to_numpy().copy()
    if len(changes):
        first_change = np.r_[True, pos[1:] != pos[:-1]]
        initial[pos[first_change]] = changes["from_person"].astype(object).to_numpy()[first_change]
    people = np.concatenate([initial, changes["to_person"].astype(object).to_numpy()])
    codes, names = pd.factorize(pd.Series(people, dtype=object), use_na_sentinel=True)
    n = len(items)
    all_pos = np.concatenate([np.arange(n), pos])
    all_at = np.concatenate([created, at])
    first = np.r_[np.ones(n, bool), np.zeros(len(pos), bool)]
    order = order_by(all_pos, all_at)
    return AssigneeTimeline(
        pos=all_pos[order],
        at_ns=all_at[order],
        person=codes.astype(np.int64)[order],
        names=np.asarray(names, dtype=object),
        first=first[order],
    )


def assignee_at(timeline: AssigneeTimeline, pos: np.ndarray, at_ns: np.ndarray) -> np.ndarray:
    """The assignee (name or None) of item `pos[i]` at instant `at_ns[i]` (changes at that
    very instant already applied)."""
    if len(pos) == 0:
        return np.array([], dtype=object)
    left = pd.DataFrame({"row": np.arange(len(pos)), "pos": pos, "t": at_ns}).sort_values("t")
    right = pd.DataFrame({"pos": timeline.pos, "t": timeline.at_ns, "person": timeline.person})
    right = right.sort_values("t", kind="stable")
    merged = pd.merge_asof(left, right, on="t", by="pos", direction="backward")
    merged = merged.sort_values("row")
    codes = merged["person"].fillna(UNASSIGNED).to_numpy().astype(np.int64)
    names = np.append(timeline.names, None).astype(object)
    return names[np.where(codes >= 0, codes, len(timeline.names))]


@dataclass(frozen=True)
class Segments:
    """Stage x assignee segments [start_ns, end_ns) with positive length."""

    pos: np.ndarray
    start_ns: np.ndarray
    end_ns: np.ndarray
    stage: np.ndarray
    person: np.ndarray  # codes into `names`, -1 = unassigned
    names: np.ndarray


def work_segments(
    stages: StageTimeline, assignees: AssigneeTimeline, lo_ns: int, hi_ns: int
) -> Segments:
    """Intersect the two timelines; keep segments overlapping [lo_ns, hi_ns)."""
    # The creation rows of both timelines merge into one row carrying both values, so
    # the forward fill below never reads across items.
    creation_person = np.full(len(stages.items), _UNSET, np.int64)
    creation_person[assignees.pos[assignees.first]] = assignees.person[assignees.first]
    stage_person = np.where(stages.first, creation_person[stages.pos], _UNSET)
    later = ~assignees.first
    pos = np.concatenate([stages.pos, assignees.pos[later]])
    start = np.concatenate([stages.start_ns, assignees.at_ns[later]])
    stage = np.concatenate([stages.stage.astype(np.int64), np.full(int(later.sum()), _UNSET)])
    person = np.concatenate([stage_person, assignees.person[later]])
    # Stable: at the same instant the stage row comes first, then assignments in order.
    order = order_by(pos, start)
    pos, start, stage, person = pos[order], start[order], stage[order], person[order]
    stage = _forward_fill(stage)
    person = _forward_fill(person)
    same_next = np.r_[pos[1:] == pos[:-1], False]
    end = np.where(same_next, np.r_[start[1:], 0], stages.now_ns)
    keep = (end > start) & (end > lo_ns) & (start < hi_ns)
    return Segments(
        pos=pos[keep],
        start_ns=start[keep],
        end_ns=end[keep],
        stage=stage[keep].astype(np.int8),
        person=person[keep],
        names=assignees.names,
    )


def _forward_fill(values: np.ndarray) -> np.ndarray:
    """Replace `_UNSET` by the last set value before it."""
    idx = np.where(values != _UNSET, np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    return values[idx]
