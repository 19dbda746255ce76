"""Turnaround of work items (cycle, lead, active time, flow efficiency) and of pull requests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.frames import prepare
from metrics.intervals import NAT_NS, hours, ns, to_timestamps
from metrics.stages import ACTIVE, DONE, WAITING, StageTimeline

_MAX = np.iinfo(np.int64).max

ITEM_FLOW: tuple[str, ...] = (
    "item_id",
    "created_at",
    "started_at",
    "done",
    "done_at",
    "cycle_hours",
    "lead_hours",
    "active_hours",
    "flow_efficiency",
    "skipped_start",
)


def item_flow(stages: StageTimeline) -> pd.DataFrame:
    """Per item: its start, its end and the durations between them (as of `now`).

    Input: a stage timeline. Output columns (one row per item created by `now`):
    - started_at: first entry into `active` or `waiting` (creation, if created in one), or NaT.
    - done: the item is in a `done` stage now; done_at: the last entry into `done`, that
      is the start of its final run of done stages (a move Done -> Closed is no new
      entry). Where the timeline records no entry into done after creation, the items
      frame's `done_at` is used if it lies between creation and now.
    - cycle_hours: started_at -> done_at, done items only; NaN when never started
      (`skipped_start` True). lead_hours: created -> done_at, every done item.
    - active_hours: total time in `active` stages before done_at (waiting and todo
      excluded), done items with a cycle time; flow_efficiency: active / cycle (NaN when
      the cycle time is 0).
    Open items have NaN durations; a reopened item counts from its first start to its
    last entry into done, so time spent between a first "done" and the reopen is in
    the cycle time but not in the active time.
    """
    items = stages.items
    n = len(items)
    if n == 0:
        return pd.DataFrame({c: pd.Series([], dtype=_dtype(c)) for c in ITEM_FLOW})
    pos, start, end, stage = stages.pos, stages.start_ns, stages.end_ns, stages.stage
    last_row = np.r_[pos[1:] != pos[:-1], True]
    final_stage = np.full(n, -1, np.int64)
    final_stage[pos[last_row]] = stage[last_row]
    done = final_stage == DONE

    previous = np.r_[-1, stage[:-1]].astype(np.int64)
    previous[stages.first] = -1
    entry = (stage == DONE) & (previous != DONE)
    done_entry = np.full(n, NAT_NS, np.int64)
    entry_rows = np.flatnonzero(entry)
    # Rows are sorted by item then time, so the last write per item is its last entry.
    done_entry[pos[entry_rows]] = start[entry_rows]
    entry_is_creation = np.zeros(n, bool)
    entry_is_creation[pos[entry_rows]] = stages.first[entry_rows]

    created = ns(items["created_at"])
    recorded = ns(items["done_at"])
    usable = (recorded != NAT_NS) & (recorded >= created) & (recorded <= stages.now_ns)
    done_at = np.where(done & entry_is_creation & usable, recorded, done_entry)
    done_at = np.where(done, done_at, NAT_NS)

    started = np.full(n, _MAX, np.int64)
    working = (stage == ACTIVE) | (stage == WAITING)
    np.minimum.at(started, pos[working], start[working])
    has_start = started != _MAX

    active_rows = np.flatnonzero(stage == ACTIVE)
    active_end = np.minimum(end[active_rows], np.where(done, done_at, _MAX)[pos[active_rows]])
    active_ns = np.zeros(n, np.int64)
    np.add.at(active_ns, pos[active_rows], np.maximum(active_end - start[active_rows], 0))

    has_cycle = done & has_start & (started <= done_at)
    cycle = np.where(has_cycle, hours(done_at - started), np.nan)
    lead = np.where(done, hours(done_at - created), np.nan)
    active = np.where(has_cycle, hours(active_ns), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        efficiency = np.where(has_cycle & (cycle > 0), active / cycle, np.nan)
    return pd.DataFrame(
        {
            "item_id": items["item_id"].to_numpy(),
            "created_at": to_timestamps(created).array,
            "started_at": to_timestamps(np.where(has_start, started, NAT_NS)).array,
            "done": done,
            "done_at": to_timestamps(done_at).array,
            "cycle_hours": cycle,
            "lead_hours": lead,
            "active_hours": active,
            "flow_efficiency": efficiency,
            "skipped_start": done & ~has_cycle,
        }
    )


PR_FLOW: tuple[str, ...] = (
    "pr_id",
    "repo",
    "author",
    "created_at",
    "ready_at",
    "first_review_at",
    "merged_at",
    "first_review_hours",
    "merge_hours",
    "draft_hours",
    "pickup_hours",
    "review_hours",
)


def first_reviews(pulls: pd.DataFrame, reviews: pd.DataFrame, now: pd.Timestamp) -> pd.Series:
    """The first review by someone other than the author, per PR (aligned with `pulls`).

    Computed from `reviews` (any state, submitted by `now`); the `first_review_at` column
    is used only for PRs without any review row. A review by an unknown person (None)
    counts when the author is known; when both are unknown we cannot tell them apart,
    so it does not count.
    """
    pulls = prepare("pulls", pulls)
    reviews = prepare("reviews", reviews)
    now_ns = int(pd.Timestamp(now).value)
    from_column = ns(pulls["first_review_at"])
    from_column = np.where((from_column != NAT_NS) & (from_column <= now_ns), from_column, NAT_NS)
    if reviews.empty or pulls.empty:
        return to_timestamps(from_column)
    authors = pd.Series(pulls["author"].astype(object).to_numpy(), index=pulls["pr_id"])
    authors = authors[~authors.index.duplicated()]
    author = reviews["pr_id"].map(authors).astype(object)
    reviewer = reviews["reviewer"].astype(object)
    submitted = ns(reviews["submitted_at"])
    other = (reviewer.notna() & (author.isna() | (reviewer != author))) | (
        reviewer.isna() & author.notna()
    )
    valid = other.to_numpy() & (submitted != NAT_NS) & (submitted <= now_ns)
    firsts = pd.Series(submitted[valid], index=reviews["pr_id"].to_numpy()[valid])
    firsts = firsts.groupby(level=0).min()
    has_rows = pulls["pr_id"].isin(reviews["pr_id"]).to_numpy()
    where = pd.Index(firsts.index).get_indexer(pulls["pr_id"])
    computed = np.append(firsts.to_numpy().astype(np.int64), NAT_NS)[where]
    return to_timestamps(np.where(has_rows, computed, from_column))


def pr_flow(pulls: pd.DataFrame, reviews: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Per pull request created by `now`: its turnaround as of `now`.

    Input: pulls, reviews. Output columns (PR_FLOW):
    - ready_at: when it became ready for review: created, or when it left draft; NaT
      while it is still a draft (a PR now draft again but with a ready_at counts as
      ready from then: the return to draft is not recorded).
    - first_review_hours: ready -> first review by a non-author; a review given while
      still a draft counts as 0 (it was waiting at the moment of readiness).
    - merge_hours: created -> merged.
    - draft_hours + pickup_hours + review_hours == merge_hours for every merged PR:
      draft = created -> ready, pickup = ready -> first non-author review, review ->
      merged. A missing event gives its time to the next stage: never a draft gives
      draft 0; never reviewed before the merge gives pickup 0 and the whole ready ->
      merged time to review.
    Events after `now` are treated as not (yet) happened.
    """
    pulls = prepare("pulls", pulls)
    now_ns = int(pd.Timestamp(now).value)
    created = ns(pulls["created_at"])
    keep = (created != NAT_NS) & (created <= now_ns)
    pulls = pulls[keep].reset_index(drop=True)
    if pulls.empty:
        return pd.DataFrame({c: pd.Series([], dtype=_pr_dtype(c)) for c in PR_FLOW})
    created = created[keep]

    def known(column: str) -> np.ndarray:
        values = ns(pulls[column])
        return np.where((values != NAT_NS) & (values <= now_ns), values, NAT_NS)

    merged, ready_col = known("merged_at"), known("ready_at")
    ready_pending = ns(pulls["ready_at"])
    still_draft = pulls["draft"].to_numpy() | ((ready_pending != NAT_NS) & (ready_pending > now_ns))
    ready = np.where(ready_col != NAT_NS, ready_col, np.where(still_draft, NAT_NS, created))
    ready = np.where(ready != NAT_NS, np.maximum(ready, created), NAT_NS)
    first = ns(first_reviews(pulls, reviews, now))

    is_ready, reviewed, is_merged = ready != NAT_NS, first != NAT_NS, merged != NAT_NS
    wait = np.where(is_ready & reviewed, hours(np.maximum(first - ready, 0)), np.nan)
    merge = np.where(is_merged, hours(merged - created), np.nan)

    # Breakdown of merged PRs: clip the events into [created, merged] so the parts add up.
    ready_b = np.where(is_ready, np.minimum(ready, merged), merged)
    review_b = np.where(reviewed & (first <= merged), np.maximum(first, ready_b), ready_b)
    draft_h = np.where(is_merged, hours(ready_b - created), np.nan)
    pickup_h = np.where(is_merged, hours(review_b - ready_b), np.nan)
    review_h = np.where(is_merged, hours(merged - review_b), np.nan)
    return pd.DataFrame(
        {
            "pr_id": pulls["pr_id"].to_numpy(),
            "repo": pulls["repo"].astype(object).to_numpy(),
            "author": pulls["author"].astype(object).to_numpy(),
            "created_at": to_timestamps(created).array,
            "ready_at": to_timestamps(ready).array,
            "first_review_at": to_timestamps(first).array,
            "merged_at": to_timestamps(merged).array,
            "first_review_hours": wait,
            "merge_hours": merge,
            "draft_hours": draft_h,
            "pickup_hours": pickup_h,
            "review_hours": review_h,
        }
    )


def _dtype(column: str) -> str:
    if column.endswith("_at"):
        return "datetime64[ns, UTC]"
    if column in ("done", "skipped_start"):
        return "bool"
    if column == "item_id":
        return "object"
    return "float64"


def _pr_dtype(column: str) -> str:
    if column.endswith("_at"):
        return "datetime64[ns, UTC]"
    if column in ("pr_id", "repo", "author"):
        return "object"
    return "float64"
