"""Pull-request turnaround: time to first review, time to merge and its breakdown."""

from __future__ import annotations

import math

import pandas as pd

from metrics.frames import Frames
from metrics.turnaround import PR_FLOW, pr_flow
from tests.metrics.metrics_world import WorldBuilder, ts

NOW = "2025-01-20 00:00"


def flow_of(world: WorldBuilder, now: str = NOW) -> pd.DataFrame:
    return world.facts(now).pulls.set_index("pr_id")


def assert_breakdown_adds_up(row: pd.Series) -> None:
    parts = row["draft_hours"] + row["pickup_hours"] + row["review_hours"]
    assert abs(parts - row["merge_hours"]) < 1e-9


def test_a_pr_left_draft_waits_for_review_from_the_moment_it_was_ready(world):
    world.pr(1, "Ada", "2025-01-06 09:00", ready="2025-01-06 13:00", merged="2025-01-06 20:00")
    world.review(1, "Bob", "2025-01-06 15:00")
    row = flow_of(world).loc[1]
    assert row["ready_at"] == ts("2025-01-06 13:00")
    assert row["first_review_hours"] == 2.0  # ready 13:00 -> review 15:00, not from creation
    assert row["merge_hours"] == 11.0  # created 09:00 -> merged 20:00
    assert (row["draft_hours"], row["pickup_hours"], row["review_hours"]) == (4.0, 2.0, 5.0)
    assert_breakdown_adds_up(row)


def test_a_review_by_the_author_is_ignored(world):
    world.pr(1, "Ada", "2025-01-06 09:00", merged="2025-01-06 18:00")
    world.review(1, "Ada", "2025-01-06 10:00", state="COMMENTED")
    world.review(1, "Bob", "2025-01-06 12:00")
    row = flow_of(world).loc[1]
    assert row["first_review_at"] == ts("2025-01-06 12:00")
    assert row["first_review_hours"] == 3.0  # never a draft: ready at creation 09:00 -> 12:00


def test_a_never_reviewed_merged_pr_gives_its_pickup_time_to_review(world):
    # "A missing event gives its time to the next stage": no review, so pickup is 0 and
    # the whole ready -> merged time is review.
    world.pr(1, "Ada", "2025-01-06 09:00", ready="2025-01-06 11:00", merged="2025-01-06 15:00")
    row = flow_of(world).loc[1]
    assert math.isnan(row["first_review_hours"])
    assert row["merge_hours"] == 6.0
    assert (row["draft_hours"], row["pickup_hours"], row["review_hours"]) == (2.0, 0.0, 4.0)
    assert_breakdown_adds_up(row)


def test_a_pr_never_a_draft_has_no_draft_time(world):
    world.pr(1, "Ada", "2025-01-06 09:00", merged="2025-01-06 12:00")
    world.review(1, "Bob", "2025-01-06 10:00")
    row = flow_of(world).loc[1]
    assert (row["draft_hours"], row["pickup_hours"], row["review_hours"]) == (0.0, 1.0, 2.0)


def test_a_review_given_while_still_a_draft_counts_as_immediate(world):
    world.pr(1, "Ada", "2025-01-06 09:00", ready="2025-01-06 11:00", merged="2025-01-06 12:00")
    world.review(1, "Bob", "2025-01-06 10:00")
    row = flow_of(world).loc[1]
    assert row["first_review_hours"] == 0.0
    assert (row["draft_hours"], row["pickup_hours"], row["review_hours"]) == (2.0, 0.0, 1.0)
    assert_breakdown_adds_up(row)


def test_a_review_after_the_merge_is_missing_from_the_breakdown(world):
    world.pr(1, "Ada", "2025-01-06 09:00", merged="2025-01-06 10:00")
    world.review(1, "Bob", "2025-01-06 11:00")
    row = flow_of(world).loc[1]
    assert row["first_review_hours"] == 2.0  # the review still happened
    assert (row["draft_hours"], row["pickup_hours"], row["review_hours"]) == (0.0, 0.0, 1.0)


def test_a_pr_still_in_draft_has_no_time_to_first_review(world):
    world.pr(1, "Ada", "2025-01-06 09:00", draft=True)
    world.review(1, "Bob", "2025-01-06 10:00")
    row = flow_of(world).loc[1]
    assert pd.isna(row["ready_at"])
    assert math.isnan(row["first_review_hours"]) and math.isnan(row["merge_hours"])


def test_a_pr_ready_only_after_now_is_still_a_draft(world):
    world.pr(1, "Ada", "2025-01-06 09:00", ready="2025-01-25 09:00")
    row = flow_of(world).loc[1]
    assert pd.isna(row["ready_at"])


def test_an_unknown_reviewer_counts_but_not_when_the_author_is_unknown_too(world):
    world.pr(1, "Ada", "2025-01-06 09:00")
    world.review(1, None, "2025-01-06 10:00")
    world.pr(2, None, "2025-01-06 09:00")
    world.review(2, None, "2025-01-06 10:00")
    flow = flow_of(world)
    assert flow.loc[1, "first_review_hours"] == 1.0
    assert math.isnan(flow.loc[2, "first_review_hours"])


def test_the_first_review_column_is_used_only_for_prs_without_review_rows(world):
    world.pr(1, "Ada", "2025-01-06 09:00")
    world.pr(2, "Ada", "2025-01-06 09:00")
    world.review(2, "Bob", "2025-01-06 12:00")
    frames = world.frames()
    pulls = frames.pulls.assign(first_review_at=ts("2025-01-06 10:00"))
    flow = pr_flow(pulls, frames.reviews, ts(NOW)).set_index("pr_id")
    assert flow.loc[1, "first_review_hours"] == 1.0  # from the column
    assert flow.loc[2, "first_review_hours"] == 3.0  # from the reviews, not the column


def test_pr_flow_of_no_pulls_is_an_empty_frame_with_its_columns():
    frames = Frames()
    flow = pr_flow(frames.pulls, frames.reviews, ts(NOW))
    assert flow.empty
    assert list(flow.columns) == list(PR_FLOW)
