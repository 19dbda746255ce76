"""Cycle, lead and active time, flow efficiency and stage resolution, on hand-made items."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from metrics.frames import Frames
from metrics.stages import stage_of, stage_timeline
from metrics.turnaround import ITEM_FLOW, item_flow
from tests.metrics.metrics_world import STATUSES, WorldBuilder, org_config, ts

NOW = "2025-01-20 00:00"


def flow_of(world: WorldBuilder, now: str = NOW) -> pd.DataFrame:
    return world.facts(now).items.set_index("item_id")


def test_cycle_time_runs_from_first_start_to_the_last_entry_into_done_after_a_reopen(world):
    world.item(1, "2025-01-06 09:00")
    world.move(1, "2025-01-07 09:00", "In Progress")
    world.move(1, "2025-01-08 09:00", "Done")
    world.move(1, "2025-01-09 09:00", "In Progress")  # reopened
    world.move(1, "2025-01-10 09:00", "Done")
    row = flow_of(world).loc[1]
    assert row["done"]
    assert row["done_at"] == ts("2025-01-10 09:00")
    assert row["cycle_hours"] == 72.0  # Tue 09:00 -> Fri 09:00
    assert row["lead_hours"] == 96.0  # Mon 09:00 -> Fri 09:00
    assert row["active_hours"] == 48.0  # Tue->Wed 24 h + Thu->Fri 24 h; the day in Done excluded
    assert row["flow_efficiency"] == pytest.approx(48 / 72)
    assert not row["skipped_start"]


def test_cycle_time_ignores_items_never_started(world):
    world.item(1, "2025-01-06 09:00")
    world.move(1, "2025-01-06 17:00", "Done")
    row = flow_of(world).loc[1]
    assert row["skipped_start"]
    assert math.isnan(row["cycle_hours"])
    assert math.isnan(row["active_hours"])
    assert row["lead_hours"] == 8.0  # every done item has a lead time: 09:00 -> 17:00


def test_time_in_a_waiting_stage_is_in_cycle_time_but_not_in_active_time(world):
    world.item(1, "2025-01-06 09:00")
    world.move(1, "2025-01-07 09:00", "In Progress")
    world.move(1, "2025-01-07 21:00", "Blocked")  # Blocked -> waiting in the org file
    world.move(1, "2025-01-08 09:00", "In Progress")
    world.move(1, "2025-01-08 21:00", "Done")
    row = flow_of(world).loc[1]
    assert row["cycle_hours"] == 36.0  # Tue 09:00 -> Wed 21:00
    assert row["active_hours"] == 24.0  # 12 h + 12 h; the 12 h blocked excluded
    assert row["flow_efficiency"] == pytest.approx(24 / 36)


def test_an_item_whose_first_start_is_a_waiting_stage_starts_its_cycle_there(world):
    world.item(1, "2025-01-06 09:00")
    world.move(1, "2025-01-06 10:00", "Blocked")
    world.move(1, "2025-01-06 12:00", "In Progress")
    world.move(1, "2025-01-06 13:00", "Done")
    row = flow_of(world).loc[1]
    assert row["cycle_hours"] == 3.0  # 10:00 -> 13:00
    assert row["active_hours"] == 1.0


def test_an_item_created_in_an_active_status_starts_its_cycle_at_creation(world):
    world.item(1, "2025-01-06 09:00", status="In Progress")
    world.move(1, "2025-01-06 19:00", "Done")
    row = flow_of(world).loc[1]
    assert row["started_at"] == ts("2025-01-06 09:00")
    assert row["cycle_hours"] == 10.0
    assert row["lead_hours"] == 10.0
    assert row["flow_efficiency"] == 1.0


def test_moving_between_two_done_statuses_is_not_a_new_entry_into_done(world):
    world.item(1, "2025-01-06 09:00")
    world.move(1, "2025-01-06 10:00", "In Progress")
    world.move(1, "2025-01-06 12:00", "Done")
    world.move(1, "2025-01-07 12:00", "Closed")
    row = flow_of(world).loc[1]
    assert row["done_at"] == ts("2025-01-06 12:00")
    assert row["cycle_hours"] == 2.0


def test_open_items_have_no_cycle_or_lead_time_and_are_not_skipped(world):
    world.item(1, "2025-01-06 09:00")
    world.move(1, "2025-01-06 10:00", "In Progress")
    row = flow_of(world).loc[1]
    assert not row["done"]
    assert pd.isna(row["done_at"])
    assert math.isnan(row["cycle_hours"]) and math.isnan(row["lead_hours"])
    assert not row["skipped_start"]


def test_changes_after_now_are_not_seen(world):
    world.item(1, "2025-01-06 09:00")
    world.move(1, "2025-01-06 10:00", "In Progress")
    world.move(1, "2025-01-25 10:00", "Done")  # after NOW
    world.item(2, "2025-01-21 09:00")  # created after NOW
    flow = flow_of(world)
    assert not flow.loc[1, "done"]
    assert 2 not in flow.index


def test_the_status_at_creation_comes_from_the_first_change(world):
    # The current status is Done, but the history says it was created In Progress.
    world.item(1, "2025-01-06 09:00", status="In Progress")
    world.move(1, "2025-01-06 11:00", "Done")
    frames = world.frames()
    assert frames.items.loc[0, "status"] == "Done"
    row = flow_of(world).loc[1]
    assert row["cycle_hours"] == 2.0


def test_items_without_a_recorded_entry_into_done_use_their_done_at():
    # A GitHub issue: closed with no status history; the loader gives closed_at as done_at.
    world = WorldBuilder(org_config())
    world.item(1, "2025-01-06 09:00", status="closed", source="github", done_at="2025-01-07 09:00")
    statuses = pd.DataFrame(
        [("github", "open", "new"), ("github", "closed", "done")],
        columns=["source", "name", "category"],
    )
    frames = world.frames()
    timeline = stage_timeline(frames.items, frames.transitions, statuses, world.config, ts(NOW))
    row = item_flow(timeline).set_index("item_id").loc[1]
    assert row["done_at"] == ts("2025-01-07 09:00")
    assert row["lead_hours"] == 24.0
    assert row["skipped_start"]


def test_stages_follow_categories_with_config_overrides_and_unknown_statuses_are_todo(config):
    status = pd.Series(["To Do", "in progress", "BLOCKED", "Done", "Mystery", None])
    stages = stage_of(status, None, STATUSES, config)
    assert stages.tolist() == ["todo", "active", "waiting", "done", "todo", "todo"]


def test_a_status_name_shared_by_two_sources_uses_the_items_own_source(config):
    statuses = pd.DataFrame(
        [("jira", "Review", "indeterminate"), ("github", "Review", "done")],
        columns=["source", "name", "category"],
    )
    stages = stage_of(
        pd.Series(["Review", "Review"]), pd.Series(["jira", "github"]), statuses, config
    )
    assert stages.tolist() == ["active", "done"]


def test_timestamps_at_any_resolution_or_as_strings_give_the_same_times(world):
    world.item(1, "2025-01-06 09:00:00.5")
    world.move(1, "2025-01-07 09:00", "In Progress")
    world.move(1, "2025-01-08 10:30", "Done")
    frames = world.frames()
    expected = flow_of(world).loc[1, "cycle_hours"]
    assert expected == 25.5
    for convert in (
        lambda s: s.astype("datetime64[us, UTC]"),
        lambda s: s.astype("datetime64[s, UTC]"),
        lambda s: s.dt.strftime("%Y-%m-%dT%H:%M:%S%z"),
    ):
        transitions = frames.transitions.assign(at=convert(frames.transitions["at"]))
        timeline = stage_timeline(frames.items, transitions, STATUSES, world.config, ts(NOW))
        assert item_flow(timeline).set_index("item_id").loc[1, "cycle_hours"] == expected


def test_unordered_transitions_are_sorted_by_time(world):
    world.item(1, "2025-01-06 09:00")
    world.move(1, "2025-01-07 09:00", "In Progress")
    world.move(1, "2025-01-08 09:00", "Done")
    world.item(2, "2025-01-06 09:00")
    world.move(2, "2025-01-06 10:00", "In Progress")
    world.move(2, "2025-01-06 12:00", "Done")
    frames = world.frames()
    shuffled = frames.transitions.iloc[::-1].reset_index(drop=True)
    timeline = stage_timeline(frames.items, shuffled, STATUSES, world.config, ts(NOW))
    flow = item_flow(timeline).set_index("item_id")
    assert flow["cycle_hours"].tolist() == [24.0, 2.0]  # Tue 09:00 -> Wed 09:00; 10:00 -> 12:00


def test_item_flow_of_no_items_is_an_empty_frame_with_its_columns(config):
    frames = Frames()
    timeline = stage_timeline(frames.items, frames.transitions, frames.statuses, config, ts(NOW))
    flow = item_flow(timeline)
    assert flow.empty
    assert list(flow.columns) == list(ITEM_FLOW)


def test_overall_flow_efficiency_weighs_each_item_by_its_cycle_time(world):
    from metrics.summary import overall_efficiency

    # Three items never blocked (each 100% efficient) and one blocked for 4 days.
    for item, day in ((1, "06"), (2, "07"), (3, "08")):
        world.item(item, f"2025-01-{day} 09:00")
        world.move(item, f"2025-01-{day} 10:00", "In Progress")
        world.move(item, f"2025-01-{day} 12:00", "Done")  # 2 h active of 2 h
    world.item(4, "2025-01-06 09:00")
    world.move(4, "2025-01-06 10:00", "In Progress")
    world.move(4, "2025-01-06 12:00", "Blocked")
    world.move(4, "2025-01-10 12:00", "In Progress")
    world.move(4, "2025-01-10 14:00", "Done")  # 4 h active of 100 h
    world.item(5, "2025-01-06 09:00")
    world.move(5, "2025-01-06 17:00", "Done")  # never started: no cycle time, left out
    items = flow_of(world)
    assert items["flow_efficiency"].median() == 1.0  # the per-item median says nothing
    # (3 x 2 h + 4 h) active over (3 x 2 h + 100 h) of cycle time
    assert overall_efficiency(items) == pytest.approx(10 / 106)
    assert overall_efficiency(items.iloc[0:0]) is None
