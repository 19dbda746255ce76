"""Delivery forecast: hand-made throughput with the arithmetic shown, the JQL subset, the backtest."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from metrics.delivery import Scope, backtest, forecast, parse_scope
from tests.metrics.metrics_world import ts

AS_OF = ts("2025-02-03 00:00")  # a Monday; the lookback is the 4 weeks of January 6 to February 2
EPIC = "ENG-100"


def steady_world(world):
    """Ada (Infra) finishes two Core development items a week, active every weekday (1.0 FTE);
    two of the eight belong to the epic, which also has three items not started."""
    world.member("Ada", "Infra")
    item = 0
    for monday in ("2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27"):
        day = dt.date.fromisoformat(monday)
        wed, fri = day + dt.timedelta(days=2), day + dt.timedelta(days=4)
        for start, end in ((f"{day} 09:00", f"{wed} 17:00"), (f"{wed} 17:00", f"{fri} 17:00")):
            item += 1
            world.item(item, "2025-01-06 08:00", assignee="Ada", project="ENG")
            world.move(item, start, "In Progress")
            world.move(item, end, "Done")
    for done in (1, 2):
        world.items[done]["epic_key"] = EPIC
    for open_item in (101, 102, 103):
        world.item(open_item, "2025-01-06 08:00", project="ENG")
        world.items[open_item]["epic_key"] = EPIC
    return world.facts("2025-03-01 00:00")


def test_forecast_divides_the_remaining_items_by_the_scopes_share_of_the_throughput(world):
    facts = steady_world(world)
    result = forecast(facts, Scope(epic=EPIC), AS_OF, np.random.default_rng(1), lookback_weeks=4)
    # rate = 2 items / 1.0 FTE every week; focus = 2 epic items / 8 done by Infra = 0.25;
    # throughput = 2 x 1.0 x 0.25 = 0.5 items a week; no item joined the epic after its
    # first week, so no growth; 3 remaining / 0.5 = 6 weeks, in every run.
    assert (result["team"], result["remaining"], result["done"]) == ("Infra", 3, 2)
    assert result["rate_per_fte"] == pytest.approx(2.0)
    assert result["focus"] == pytest.approx(0.25)
    assert result["growth_per_week"] == 0.0
    six_weeks = (AS_OF + dt.timedelta(weeks=6)).date()
    assert result["p50"] == result["p85"] == result["p95"] == six_weeks


def test_one_more_fte_on_the_category_brings_the_dates_forward(world):
    facts = steady_world(world)
    result = forecast(
        facts, Scope(epic=EPIC), AS_OF, np.random.default_rng(1), lookback_weeks=4, fte_change=1.0
    )
    # 2 FTE x 2 items per FTE x 0.25 = 1 item a week: 3 remaining take 3 weeks.
    assert result["fte"] == pytest.approx(2.0)
    assert result["p85"] == (AS_OF + dt.timedelta(weeks=3)).date()


def test_a_scenarios_allocation_counts_only_for_the_forecasts_team_and_categories(world):
    facts = steady_world(world)
    changes = {
        ("Infra", "Core development"): 1.0,  # counts: Infra does this scope's category
        ("Research", "Core development"): 5.0,  # another team
        ("Infra", "Infrastructure"): 5.0,  # another category
    }
    result = forecast(
        facts,
        Scope(epic=EPIC),
        AS_OF,
        np.random.default_rng(1),
        lookback_weeks=4,
        fte_changes=changes,
    )
    # 1.0 + 1.0 FTE: the same 3 weeks as one more FTE by hand.
    assert result["fte"] == pytest.approx(2.0)
    assert result["p85"] == (AS_OF + dt.timedelta(weeks=3)).date()


def test_a_scope_with_nothing_left_is_done_at_the_forecast_date(world):
    facts = steady_world(world)
    result = forecast(
        facts, Scope(keys=("ENG-1", "ENG-2")), AS_OF, np.random.default_rng(1), lookback_weeks=4
    )
    assert result["remaining"] == 0 and result["p95"] == AS_OF.date()


def test_an_empty_scope_is_an_error(world):
    facts = steady_world(world)
    with pytest.raises(ValueError, match="no items"):
        forecast(facts, Scope(epic="NOPE-1"), AS_OF, np.random.default_rng(1))


def test_the_filter_subset_reads_epic_project_labels_and_keys():
    scope = parse_scope('"Epic Link" = ENG-1 AND project in (ENG, DS) AND labels = infra')
    assert scope == Scope(epic="ENG-1", projects=("ENG", "DS"), labels=("infra",))
    assert parse_scope("key in (A-1, A-2)").keys == ("A-1", "A-2")
    with pytest.raises(ValueError, match="unsupported filter clause"):
        parse_scope("project = ENG OR project = DS")


@pytest.mark.slow
def test_the_backtest_on_the_sandbox_finds_about_85_percent_done_by_their_p85(small_facts):
    result = backtest(small_facts, np.random.default_rng(0))
    # Small's finished epics, forecast at their midpoints (the figure in docs/metrics.md).
    assert result["n"] >= 10
    assert abs(result["share_by_p85"] - 0.85) <= 0.15, result
    assert result["share_by_p50"] <= result["share_by_p85"] <= result["share_by_p95"]
