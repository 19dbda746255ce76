"""Work allocation by person-day attribution, with the weeks of 2025-01-06 (UTC) unless said."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest

from metrics.allocation import person_days, shares, team_days, weekly_fte, weekly_planned
from metrics.facts import Facts
from metrics.frames import Frames
from metrics.weeks import widen
from tests.metrics.metrics_world import WorldBuilder, org_config, ts

NOW = "2025-02-01 00:00"
WEEK = widen(dt.date(2025, 1, 6), dt.date(2025, 1, 12))


def fte(world: WorldBuilder, team: str = "Infra", now: str = NOW, window=WEEK) -> dict[str, float]:
    """Category -> FTE of `team` in the first week of the window."""
    weekly = weekly_fte(world.facts(now), window, [team])
    first = weekly[weekly["week"] == window.weeks[0]]
    return {c: f for c, f in zip(first["category"], first["fte"], strict=True) if f}


def active_all_day(world: WorldBuilder, item_id: int, day: str, person: str = "Ada", **kw) -> None:
    """An item In Progress from 09:00 to 17:00 on `day`, assigned to `person`."""
    world.item(item_id, f"{day} 08:00", assignee=person, **kw)
    world.move(item_id, f"{day} 09:00", "In Progress")
    world.move(item_id, f"{day} 17:00", "Done")


def test_a_day_is_split_evenly_across_three_items(world):
    world.member("Ada", "Infra")
    active_all_day(world, 1, "2025-01-07", labels=["infra"], project="DS")
    active_all_day(world, 2, "2025-01-07", issue_type="Support Request", project="DS")
    active_all_day(world, 3, "2025-01-07", project="ENG")
    # Tuesday: 1/3 day each = 1/15 FTE; the other four weekdays: no tracked work = 4/5 FTE.
    assert fte(world) == pytest.approx(
        {
            "Infrastructure": 1 / 15,
            "DS support": 1 / 15,
            "Core development": 1 / 15,
            "no tracked work": 0.8,
        }
    )


def test_a_pr_linked_to_an_item_worked_that_day_is_not_counted_twice(world):
    world.member("Ada", "Infra")
    active_all_day(world, 1, "2025-01-07", labels=["infra"], project="DS")
    world.pr(10, "Ada", "2025-01-07 10:00", repo="acme/app", merged="2025-01-07 16:00", linked=[1])
    world.pr(11, "Ada", "2025-01-07 10:00", repo="acme/app", merged="2025-01-07 16:00")
    days = person_days(world.facts(NOW), WEEK)
    tuesday = days[days["day"] == 1]
    assert sorted(tuesday["thing_id"].tolist()) == [1, 11]  # PR 10 is part of item 1
    # Tuesday: {item 1 (Infrastructure), PR 11 (acme/* = Core development)} -> 0.5 day each.
    assert fte(world) == pytest.approx(
        {"Infrastructure": 0.1, "Core development": 0.1, "no tracked work": 0.8}
    )


def test_a_pr_linked_to_an_item_its_author_did_not_work_on_counts_with_the_items_category(world):
    world.member("Ada", "Infra")
    world.item(1, "2025-01-06 08:00", issue_type="Support Request", project="DS", assignee="Bob")
    world.pr(
        10, "Ada", "2025-01-07 10:00", repo="acme/infra-eks", merged="2025-01-07 16:00", linked=[1]
    )
    assert fte(world) == pytest.approx({"DS support": 0.2, "no tracked work": 0.8})


def test_a_pr_linked_to_an_item_outside_the_span_read_still_takes_its_category(world):
    """A loader reads only the items alive in its span; the PR's ticket, closed long before,
    comes as a linked item, and the PR's category must not depend on how wide the read was."""
    world.member("Ada", "Infra")
    world.item(1, "2024-11-04 08:00", issue_type="Support Request", project="DS")
    world.pr(
        10, "Ada", "2025-01-07 10:00", repo="acme/infra-eks", merged="2025-01-07 16:00", linked=[1]
    )
    frames = world.frames()
    outside = replace(frames, items=frames.items.iloc[:0], linked_items=frames.items)
    unknown = replace(frames, items=frames.items.iloc[:0])

    def tuesday_fte(found: Frames) -> dict[str, float]:
        weekly = weekly_fte(Facts.build(found, world.config, ts(NOW)), WEEK, ["Infra"])
        return {c: f for c, f in zip(weekly["category"], weekly["fte"], strict=True) if f}

    # Tuesday: PR 10 is part of the DS support request (0.2 FTE), not matched on its repo.
    assert tuesday_fte(outside) == pytest.approx({"DS support": 0.2, "no tracked work": 0.8})
    # Had the loader not found the ticket, the repo rule would have decided: Infrastructure.
    assert tuesday_fte(unknown) == pytest.approx({"Infrastructure": 0.2, "no tracked work": 0.8})


def test_draft_time_of_a_pr_is_not_work_attributed(world):
    world.member("Ada", "Infra")
    # Draft Mon-Tue, ready Wednesday 10:00, merged Thursday 12:00: counts on Wed and Thu.
    world.pr(10, "Ada", "2025-01-06 10:00", ready="2025-01-08 10:00", merged="2025-01-09 12:00")
    world.pr(11, "Ada", "2025-01-06 10:00", draft=True)  # still a draft: never counts
    assert fte(world) == pytest.approx({"Core development": 0.4, "no tracked work": 0.6})


def test_an_item_active_for_part_of_a_day_counts_that_whole_day(world):
    world.member("Ada", "Infra")
    world.item(1, "2025-01-08 20:00", assignee="Ada", project="ENG")
    world.move(1, "2025-01-08 23:00", "In Progress")  # one hour on Wednesday ...
    world.move(1, "2025-01-09 01:00", "Done")  # ... and one on Thursday
    assert fte(world) == pytest.approx({"Core development": 0.4, "no tracked work": 0.6})


def test_weekend_days_are_ignored(world):
    world.member("Ada", "Infra")
    world.item(1, "2025-01-10 20:00", assignee="Ada", project="ENG")
    world.move(1, "2025-01-11 09:00", "In Progress")  # Saturday
    world.move(1, "2025-01-12 18:00", "Done")  # Sunday
    assert fte(world) == {"no tracked work": 1.0}


def test_an_item_needs_to_be_active_and_assigned_to_the_person(world):
    world.member("Ada", "Infra")
    world.item(1, "2025-01-06 08:00", assignee="Ada", project="ENG")  # To Do all week
    world.item(2, "2025-01-06 08:00", project="ENG")
    world.move(2, "2025-01-06 09:00", "In Progress")
    world.assign(2, "2025-01-08 12:00", "Ada")  # active all week, Ada's from Wednesday noon
    world.item(3, "2025-01-06 08:00", assignee="Ada", project="ENG")
    world.move(3, "2025-01-06 09:00", "Blocked")  # waiting is not work
    assert fte(world) == pytest.approx({"Core development": 0.6, "no tracked work": 0.4})


def test_day_boundaries_are_read_in_the_org_timezone(dublin_world):
    # Summer in Dublin is UTC+1: 2025-06-09 23:30 UTC is Tuesday 00:30 local, and
    # 2025-06-10 22:30 UTC is still Tuesday (23:30 local). In UTC this touches Monday too.
    week = widen(dt.date(2025, 6, 9), dt.date(2025, 6, 15), "Europe/Dublin")
    dublin_world.member("Ada", "Infra")
    dublin_world.item(1, "2025-06-09 20:00", assignee="Ada", project="ENG")
    dublin_world.move(1, "2025-06-09 23:30", "In Progress")
    dublin_world.move(1, "2025-06-10 22:30", "Done")
    days = person_days(dublin_world.facts("2025-07-01 00:00"), week)
    assert days["day"].tolist() == [1]  # Tuesday only
    assert fte(dublin_world, now="2025-07-01 00:00", window=week) == pytest.approx(
        {"Core development": 0.2, "no tracked work": 0.8}
    )
    utc_week = widen(dt.date(2025, 6, 9), dt.date(2025, 6, 15), "UTC")
    utc = WorldBuilder(org_config("UTC"))
    utc.member("Ada", "Infra")
    utc.item(1, "2025-06-09 20:00", assignee="Ada", project="ENG")
    utc.move(1, "2025-06-09 23:30", "In Progress")
    utc.move(1, "2025-06-10 22:30", "Done")
    assert person_days(utc.facts("2025-07-01 00:00"), utc_week)["day"].tolist() == [0, 1]


def test_a_person_moving_teams_mid_week_counts_for_each_team_on_its_days(world):
    world.member("Ada", "Infra", end="2025-01-08")
    world.member("Ada", "Research", start="2025-01-09")
    world.item(1, "2025-01-05 08:00", assignee="Ada", project="ENG")
    world.move(1, "2025-01-05 09:00", "In Progress")  # active all week
    assert fte(world, "Infra") == pytest.approx({"Core development": 0.6})  # Mon-Wed
    assert fte(world, "Research") == pytest.approx({"Core development": 0.4})  # Thu-Fri


def test_days_not_begun_by_now_are_not_counted(world):
    world.member("Ada", "Infra")
    assert fte(world, now="2025-01-08 12:00") == pytest.approx({"no tracked work": 0.6})  # Mon-Wed


def test_planned_and_unplanned_work_are_split_by_the_unplanned_rule(world):
    world.member("Ada", "Infra")
    active_all_day(world, 1, "2025-01-07", issue_type="Bug", project="ENG")
    active_all_day(world, 2, "2025-01-07", issue_type="Task", project="ENG")
    planned = weekly_planned(world.facts(NOW), WEEK, ["Infra"]).iloc[0]
    assert planned["unplanned_fte"] == pytest.approx(0.1)  # half of Tuesday
    assert planned["planned_fte"] == pytest.approx(0.1)
    assert planned["total_fte"] == pytest.approx(1.0)
    assert planned["unplanned_share"] == pytest.approx(0.5)


def test_a_teams_week_sums_its_members_and_shares_divide_by_the_total(world):
    world.member("Ada", "Infra")
    world.member("Bob", "Infra")
    world.item(1, "2025-01-05 08:00", assignee="Ada", labels=["infra"], project="DS")
    world.move(1, "2025-01-05 09:00", "In Progress")
    weekly = weekly_fte(world.facts(NOW), WEEK, ["Infra"])
    by_category = dict(zip(weekly["category"], weekly["fte"], strict=True))
    assert by_category["Infrastructure"] == 1.0  # Ada's five days
    assert by_category["no tracked work"] == 1.0  # Bob's five days
    share = shares(weekly).set_index("category")["share"]
    assert share["Infrastructure"] == 0.5
    assert share["uncategorized"] == 0.0  # every category is present


def test_every_team_week_and_category_is_present_with_zeros(world, config):
    weeks = widen(dt.date(2025, 1, 6), dt.date(2025, 1, 19))
    weekly = weekly_fte(world.facts(NOW), weeks, ["Infra", "Research"])
    assert len(weekly) == 2 * 2 * 5  # teams x weeks x (3 categories + 2 fallbacks)
    assert (weekly["fte"] == 0).all()


def test_no_data_gives_empty_attribution(world):
    facts = world.facts(NOW)
    assert person_days(facts, WEEK).empty
    assert team_days(facts, WEEK).empty
    planned = weekly_planned(facts, WEEK, ["Infra"])
    assert planned["total_fte"].tolist() == [0.0]
    assert pd.isna(planned["unplanned_share"].iloc[0])
