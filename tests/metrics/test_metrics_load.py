"""Load per team and person, baseline, flood/drought states, streaks and CV."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from config.schema import Load
from metrics.load import DROUGHT, FLOOD, NORMAL, person_load, states, team_load, variability
from metrics.weeks import widen

NOW = "2025-02-01 00:00"
WEEK = widen(dt.date(2025, 1, 6), dt.date(2025, 1, 12))
SETTINGS = Load()  # flood 1.5 x baseline, drought 0.5 x baseline


def active_between(world, item_id: int, start: str, end: str | None, person: str) -> None:
    world.item(item_id, "2025-01-01 00:00", assignee=person, project="ENG")
    world.move(item_id, start, "In Progress")
    if end:
        world.move(item_id, end, "Done")


def test_load_is_time_averaged_active_items_per_member(world):
    world.member("Ada", "Infra")
    world.member("Bob", "Infra")
    active_between(world, 1, "2025-01-06 00:00", "2025-01-13 00:00", "Ada")  # the whole week: 168 h
    active_between(world, 2, "2025-01-06 00:00", "2025-01-09 12:00", "Ada")  # Mon -> Thu noon: 84 h
    row = team_load(world.facts(NOW), WEEK, ["Infra"]).iloc[0]
    assert row["active_item_hours"] == 252.0
    assert row["members"] == 2.0
    assert row["load"] == pytest.approx(252 / 336)  # (168 + 84) item-hours / (2 x 168) member-hours


def test_membership_is_judged_on_each_day(world):
    world.member("Ada", "Infra")
    world.member("Bob", "Infra", end="2025-01-08")  # leaves after Wednesday
    active_between(world, 1, "2025-01-06 00:00", None, "Bob")  # active all week, Bob's
    row = team_load(world.facts(NOW), WEEK, ["Infra"]).iloc[0]
    assert row["active_item_hours"] == 72.0  # only Mon-Wed count for Infra
    assert row["member_hours"] == 168.0 + 72.0
    assert row["load"] == pytest.approx(72 / 240)


def test_a_week_without_members_has_no_load_and_no_state(world):
    weeks = widen(dt.date(2025, 1, 6), dt.date(2025, 1, 26))
    world.member("Ada", "Infra", start="2025-01-13", end="2025-01-19")  # only the middle week
    active_between(world, 1, "2025-01-06 00:00", None, "Ada")
    loads = team_load(world.facts(NOW), weeks, ["Infra"])
    assert math.isnan(loads["load"].iloc[0]) and math.isnan(loads["load"].iloc[2])
    assert loads["load"].iloc[1] == 1.0
    baseline, state = states(loads["load"], SETTINGS)
    assert baseline == 1.0
    assert state.tolist() == [None, NORMAL, None]


def test_the_current_week_is_averaged_over_its_elapsed_part(world):
    world.member("Ada", "Infra")
    active_between(world, 1, "2025-01-06 00:00", None, "Ada")
    row = team_load(world.facts("2025-01-08 12:00"), WEEK, ["Infra"]).iloc[0]
    assert row["member_hours"] == 60.0  # Mon 00:00 -> Wed 12:00
    assert row["load"] == 1.0


def test_flood_and_drought_are_relative_to_the_median_week():
    loads = np.array([2.0, 3.0, 1.0, 2.0, 0.8, np.nan])
    baseline, state = states(loads, SETTINGS)
    assert baseline == 2.0  # median of 0.8, 1, 2, 2, 3
    # flood: >= 3.0; drought: <= 1.0 (both limits included)
    assert state.tolist() == [NORMAL, FLOOD, DROUGHT, NORMAL, DROUGHT, None]


def test_with_a_baseline_of_zero_any_load_is_a_flood_and_no_week_a_drought():
    # The exception overrides both limits: 0.5 x 0 would make the team's usual empty
    # weeks droughts, as 1.5 x 0 would make every week a flood.
    baseline, state = states(np.array([0.0, 0.0, 0.5, 0.0]), SETTINGS)
    assert baseline == 0.0
    assert state.tolist() == [NORMAL, NORMAL, FLOOD, NORMAL]


def test_streaks_count_consecutive_weeks_and_a_null_week_breaks_them():
    loads = np.array([1.0, 3.0, 3.0, 1.0, 0.2, 0.2, 0.2, 1.0, np.nan, 3.0])
    summary = variability(loads, SETTINGS)
    # known weeks sorted: 0.2 0.2 0.2 1 1 1 3 3 3 -> baseline 1
    assert summary["baseline"] == 1.0
    assert summary["flood_weeks"] == 3
    assert summary["longest_flood"] == 2  # weeks 1-2; week 9 is alone after the null week
    assert summary["drought_weeks"] == 3
    assert summary["longest_drought"] == 3
    assert summary["flood_share"] == pytest.approx(3 / 9)


def test_coefficient_of_variation_is_population_std_over_mean():
    summary = variability(np.array([1.0, 3.0, np.nan]), SETTINGS)
    assert summary["cv"] == 0.5  # mean 2, population std 1
    assert variability(np.array([0.0, 0.0]), SETTINGS)["cv"] is None
    empty = variability(np.array([]), SETTINGS)
    assert empty["baseline"] is None and empty["cv"] is None and empty["flood_weeks"] == 0


def test_person_load_counts_their_own_items_while_they_are_members(world):
    world.member("Ada", "Infra")
    world.member("Ada", "Research")  # two teams: her time is counted once
    world.member("Bob", "Infra")
    active_between(world, 1, "2025-01-06 00:00", "2025-01-09 12:00", "Ada")
    loads = person_load(world.facts(NOW), WEEK).set_index("person")
    assert loads.loc["Ada", "load"] == pytest.approx(84 / 168)
    assert loads.loc["Bob", "load"] == 0.0


def test_no_members_and_no_items_give_null_loads(world):
    loads = team_load(world.facts(NOW), WEEK, ["Infra"])
    assert len(loads) == 1 and math.isnan(loads["load"].iloc[0])
    assert person_load(world.facts(NOW), WEEK).empty
