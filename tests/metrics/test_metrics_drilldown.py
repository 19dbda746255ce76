"""The detail tables behind the dashboard's headline figures, on hand-made worlds."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from metrics.allocation import team_days, weekly_fte
from metrics.drilldown import (
    against_target,
    ageing_wip,
    period_percentiles,
    person_weekly_fte,
    regrain,
    support_flows,
    thing_fte,
)
from metrics.support import breaches, support_requests
from metrics.weeks import widen
from tests.metrics.metrics_world import WorldBuilder, ts

NOW = "2025-02-01 00:00"
WEEKS = widen(dt.date(2025, 1, 6), dt.date(2025, 1, 19))  # two ISO weeks, UTC


def two_people(world: WorldBuilder) -> None:
    world.member("Ada", "Infra")
    world.member("Ben", "Infra")
    # Ada: item 1 (infra) active all Tuesday of week 1 and item 2 (ENG) on Wednesday.
    world.item(1, "2025-01-07 08:00", assignee="Ada", labels=["infra"], project="DS")
    world.move(1, "2025-01-07 09:00", "In Progress")
    world.move(1, "2025-01-07 17:00", "Done")
    world.item(2, "2025-01-08 08:00", assignee="Ada", project="ENG")
    world.move(2, "2025-01-08 09:00", "In Progress")
    world.move(2, "2025-01-08 17:00", "Done")
    # Ben: item 3 (ENG) active Monday of week 2 only.
    world.item(3, "2025-01-13 08:00", assignee="Ben", project="ENG")
    world.move(3, "2025-01-13 09:00", "In Progress")
    world.move(3, "2025-01-13 17:00", "Done")


def test_person_fte_splits_the_team_figure_by_person(world):
    two_people(world)
    facts = world.facts(NOW)
    days = team_days(facts, WEEKS)
    people = person_weekly_fte(days, WEEKS.weeks)
    week1 = people[people["week"] == dt.date(2025, 1, 6)].set_index(["person", "category"])["fte"]
    # Ada, week 1: one day Infrastructure (1/5), one Core development (1/5), 3 days idle.
    assert week1[("Ada", "Infrastructure")] == pytest.approx(0.2)
    assert week1[("Ada", "Core development")] == pytest.approx(0.2)
    assert week1[("Ada", "no tracked work")] == pytest.approx(0.6)
    assert week1[("Ben", "no tracked work")] == pytest.approx(1.0)
    # Summed over people, the team's weekly figure comes back.
    team = weekly_fte(facts, WEEKS, ["Infra"], days)
    team = team[team["fte"] > 0].set_index(["week", "category"])["fte"]
    summed = people.groupby(["week", "category"])["fte"].sum()
    pd.testing.assert_series_equal(summed.sort_index(), team.sort_index(), check_names=False)


def test_things_behind_a_category_list_each_item_with_its_person(world):
    two_people(world)
    days = team_days(world.facts(NOW), WEEKS)
    things = thing_fte(days, WEEKS.weeks)
    core = things[things["category"] == "Core development"]
    # Item 2 (Ada, Wed of week 1) and item 3 (Ben, Mon of week 2): one day each = 0.2 FTE-weeks.
    assert sorted(zip(core["thing_id"], core["person"], core["fte"], strict=True)) == [
        (2, "Ada", pytest.approx(0.2)),
        (3, "Ben", pytest.approx(0.2)),
    ]
    assert "no tracked work" not in set(things["category"])
    only_week2 = thing_fte(days, WEEKS.weeks, only=[dt.date(2025, 1, 13)])
    assert only_week2["thing_id"].tolist() == [3]


def test_period_percentiles_per_week_and_month():
    samples = pd.DataFrame(
        {
            "at": [ts("2025-01-06 10:00"), ts("2025-01-08 10:00"), ts("2025-01-14 10:00")],
            "value": [10.0, 20.0, 40.0],
        }
    )
    weekly = period_percentiles(samples, "week", "UTC")
    assert weekly["period"].tolist() == [dt.date(2025, 1, 6), dt.date(2025, 1, 13)]
    # Week 1: values 10 and 20 -> p50 = 15, p85 = 10 + 0.85 x 10 = 18.5.
    assert weekly["p50"].tolist() == pytest.approx([15.0, 40.0])
    assert weekly["p85"].tolist() == pytest.approx([18.5, 40.0])
    monthly = period_percentiles(samples, "month", "UTC")
    # One month: 10, 20, 40 -> p50 = 20.
    assert monthly["period"].tolist() == [dt.date(2025, 1, 1)]
    assert monthly["p50"].tolist() == pytest.approx([20.0])
    assert period_percentiles(samples.iloc[:0], "week", "UTC").empty


def test_a_late_evening_sample_in_dublin_summer_belongs_to_the_next_local_day():
    # 2025-06-29 23:30 UTC is Monday 00:30 in Dublin (UTC+1): the week of 2025-06-30.
    samples = pd.DataFrame({"at": [ts("2025-06-29 23:30")], "value": [5.0]})
    assert period_percentiles(samples, "week", "Europe/Dublin")["period"].tolist() == [
        dt.date(2025, 6, 30)
    ]


def test_regrain_averages_the_weeks_of_each_month():
    weekly = pd.DataFrame(
        {
            "team": ["A"] * 3,
            "week": [dt.date(2025, 1, 20), dt.date(2025, 1, 27), dt.date(2025, 2, 3)],
            "fte": [1.0, 3.0, 5.0],
        }
    )
    monthly = regrain(weekly, ["team"], ["fte"], "month")
    # January: (1 + 3) / 2 = 2 FTE; February: 5.
    assert monthly["period"].tolist() == [dt.date(2025, 1, 1), dt.date(2025, 2, 1)]
    assert monthly["fte"].tolist() == [2.0, 5.0]
    assert regrain(weekly, ["team"], ["fte"], "week")["fte"].tolist() == [1.0, 3.0, 5.0]


def test_ageing_lists_started_open_items_oldest_first_with_the_team_now(world):
    world.member("Ada", "Infra")
    world.member("Ben", "Research")
    world.item(1, "2025-01-01 00:00", assignee="Ada")
    world.move(1, "2025-01-02 00:00", "In Progress")  # open, started 30 days before now
    world.item(2, "2025-01-01 00:00", assignee="Ben")
    world.move(2, "2025-01-21 00:00", "Blocked")  # waiting counts as started: 11 days
    world.item(3, "2025-01-01 00:00", assignee="Ada")  # never started: not in progress
    world.item(4, "2025-01-01 00:00", assignee="Ada")
    world.move(4, "2025-01-02 00:00", "In Progress")
    world.move(4, "2025-01-03 00:00", "Done")  # done: not in progress
    wip = ageing_wip(world.facts(NOW))
    assert wip["key"].tolist() == ["ENG-1", "ENG-2"]
    assert wip["team"].tolist() == ["Infra", "Research"]
    assert wip["age_hours"].tolist() == pytest.approx([30 * 24, 11 * 24])


def test_support_flows_count_requests_between_teams_and_their_breaches(world):
    world.member("Ada", "Research")
    world.member("Ben", "Infra")
    for item_id, resolved in ((1, "2025-01-06 10:00"), (2, "2025-01-20 09:00"), (3, None)):
        world.item(
            item_id,
            "2025-01-06 09:00",
            reporter="Ada",
            assignee="Ben",
            issue_type="Support Request",
            project="DS",
        )
        if resolved:
            world.move(item_id, resolved, "Done", author="Ben")
    facts = world.facts(NOW)
    requests = breaches(support_requests(facts), facts.now)
    flows = support_flows(requests)
    # 3 requests Research -> Infra; #3 still open; default resolution target 120 h:
    # #2 took 14 days = 336 h (breach), #3 has waited 25 days 15 h (breach), #1 took 1 h.
    assert flows.to_dict("records") == [
        {
            "requesting_team": "Research",
            "serving_team": "Infra",
            "requests": 3,
            "open": 1,
            "resolution_breaches": 2,
        }
    ]
    ratios = against_target(requests).set_index("item_id")["resolution_ratio"]
    assert ratios[1] == pytest.approx(1 / 120)
    assert ratios[2] == pytest.approx(336 / 120)
    assert pd.isna(ratios[3])


def test_the_report_window_is_whole_iso_weeks_in_the_org_timezone():
    from metrics.summary import window_of
    from tests.metrics.metrics_world import org_config

    # Wednesday 2025-01-08 .. Tuesday 2025-01-14 -> Monday 6th .. Sunday 19th.
    window = window_of(dt.date(2025, 1, 8), dt.date(2025, 1, 14), org_config("Europe/Dublin"))
    assert (window.first_day, window.last_day, window.timezone) == (
        dt.date(2025, 1, 6),
        dt.date(2025, 1, 19),
        "Europe/Dublin",
    )


def test_cluster_usage_totals_add_every_team_and_week():
    from metrics.cluster import usage_totals

    usage = pd.DataFrame(
        {
            "team": ["A", "A", "B"],
            "week": [dt.date(2025, 1, 6), dt.date(2025, 1, 13), dt.date(2025, 1, 6)],
            "cpu_hours": [10.0, 5.0, 1.5],
            "memory_gib_hours": [0.0, 0.0, 0.0],
            "gpu_hours": [2.0, 0.0, 1.0],
            "pending_pod_hours": [0.0, 0.0, 0.0],
            "gpu_pending_pod_hours": [0.5, 0.25, 0.0],
        }
    )
    totals = usage_totals(usage)
    # 10 + 5 + 1.5 CPU-hours; 2 + 1 GPU-hours; 0.5 + 0.25 pending GPU pod-hours.
    assert (totals["cpu_hours"], totals["gpu_hours"], totals["gpu_pending_pod_hours"]) == (
        16.5,
        3.0,
        0.75,
    )
    assert usage_totals(usage.iloc[:0])["cpu_hours"] == 0.0
