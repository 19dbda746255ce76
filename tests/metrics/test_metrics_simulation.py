"""Structure what-if: queueing by hand, calibration against history, the planted reorg of `small`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from config.schema import Load
from metrics.calibration import calibration, versus_baseline
from metrics.reorg_validation import split_of_reorg, validate_reorg
from metrics.scenario import NO_CHANGE, Merge, Move, Route, Scenario, scenario_from_dict
from metrics.simulation import ALL, demand, simulate
from metrics.weeks import widen

WEEK = widen(dt.date(2025, 1, 6), dt.date(2025, 1, 12))
NOW = "2025-02-01 00:00"


def two_engineers(world):
    """Ada and Bob (Infra) each work one item on Monday 6 January, Bob's support request
    (asked by Cy of Research at 00:00) from 00:00 to 04:00, Ada's task from 00:00 to 10:00."""
    world.member("Ada", "Infra")
    world.member("Bob", "Infra")
    world.member("Cy", "Research")
    world.item(1, "2025-01-06 00:00", assignee="Ada", project="ENG")
    world.move(1, "2025-01-06 00:00", "In Progress")
    world.move(1, "2025-01-06 10:00", "Done")
    world.item(
        2,
        "2025-01-06 00:00",
        assignee="Bob",
        reporter="Cy",
        project="OPS",
        issue_type="Support Request",
    )
    world.move(2, "2025-01-06 00:00", "In Progress", author="Bob")
    world.move(2, "2025-01-06 04:00", "Done", author="Bob")
    return world.facts(NOW)


def test_no_change_replays_the_week_exactly(world):
    facts = two_engineers(world)
    replay = demand(facts, WEEK)
    # Peak: 2 items at once for 2 members = 1 lane each.
    assert replay.slots == {"Ada": 1.0, "Bob": 1.0, "Cy": 1.0}
    result = simulate(replay, NO_CHANGE, np.random.default_rng(0), runs=1, resample=False)
    infra = result.load[result.load["team"] == "Infra"].iloc[0]
    assert infra["load"] == pytest.approx(14 / 336)  # (10 + 4) item-hours / (2 x 168) member-hours
    support = result.support.set_index(["team", "metric"])["median"]
    assert support[(ALL, "resolution")] == pytest.approx(4.0)


def test_moving_one_engineer_out_makes_the_other_item_wait_for_the_lane(world):
    facts = two_engineers(world)
    replay = demand(facts, WEEK)
    moved = Scenario("Bob to Research", moves=(Move("Bob", "Research"),))
    result = simulate(replay, moved, np.random.default_rng(0), runs=1, resample=False)
    # Infra keeps Ada's one lane: item 1 holds it 0 -> 10 h (it came first), the request
    # waits 10 h and runs 10 -> 14 h. Load: 14 item-hours / 168 member-hours.
    infra = result.load[result.load["team"] == "Infra"].iloc[0]
    assert infra["members"] == pytest.approx(1.0)
    assert infra["load"] == pytest.approx(14 / 168)
    waits = result.waits.set_index("team")
    assert waits.loc["Infra", "wait_hours_mean"] == pytest.approx(5.0)  # (0 + 10) / 2
    # Resolution 4 h + 10 h of waiting; the attention factor is 1 (Infra's support share
    # of its effort is 4 / 14 under both structures).
    support = result.support.set_index(["team", "metric"])["median"]
    assert support[(ALL, "resolution")] == pytest.approx(14.0)
    research = result.load[result.load["team"] == "Research"].iloc[0]
    assert research["load"] == 0.0  # Cy and Bob, and nothing routed to Research


def test_routing_support_to_a_team_with_more_attention_shortens_the_pickup(world):
    world.member("Ada", "Infra")
    world.member("Eve", "Enablement")
    # Request 1 waits 6 h for Ada (created 00:00, started 06:00, done 08:00); Ada's task 2
    # takes 06:00 -> 12:00; Eve does request 3 (00:00 -> 02:00) and task 4 (00:00 -> 02:00).
    for item, assignee, created, start, end, kind in (
        (1, "Ada", "00:00", "06:00", "08:00", "Support Request"),
        (2, "Ada", "00:00", "06:00", "12:00", "Task"),
        (3, "Eve", "00:00", "00:00", "02:00", "Support Request"),
        (4, "Eve", "00:00", "00:00", "02:00", "Task"),
    ):
        world.item(item, f"2025-01-06 {created}", assignee=assignee, project="OPS", issue_type=kind)
        world.move(item, f"2025-01-06 {start}", "In Progress")
        world.move(item, f"2025-01-06 {end}", "Done")
    facts = world.facts(NOW)
    replay = demand(facts, WEEK)
    routed = Scenario(
        "support to Enablement", routes=(Route("DS support", "Enablement", from_team="Infra"),)
    )
    base = simulate(replay, NO_CHANGE, np.random.default_rng(0), runs=1, resample=False)
    result = simulate(replay, routed, np.random.default_rng(0), runs=1, resample=False)
    # Infra's support share of effort: 2 / (2 + 6) = 0.25; Enablement's after the route:
    # (2 + 2) / (2 + 2 + 2) = 2/3. Pickup 6 h x 0.25 / (2/3) = 2.25 h: resolution 8 h
    # becomes 8 - 6 + 2.25 = 4.25 h. Eve has 2 lanes (peak 2 items for 1 member), so
    # nothing queues.
    scenario = result.support.set_index(["team", "metric"])["median"]
    assert scenario[("Enablement", "resolution")] == pytest.approx((4.25 + 2.0) / 2)
    compared = versus_baseline(base, result, Load())["support"].set_index(["team", "metric"])
    # The baseline's Enablement request took 2 h; both are Enablement's now.
    assert compared.loc[("Enablement", "resolution"), "change"] == pytest.approx(3.125 - 2.0)


def test_a_merge_moves_people_and_work(world):
    facts = two_engineers(world)
    replay = demand(facts, WEEK)
    merged = simulate(
        replay,
        Scenario("merge", merges=(Merge("Infra", "Research"),)),
        np.random.default_rng(0),
        runs=1,
        resample=False,
    )
    research = merged.load[merged.load["team"] == "Research"].iloc[0]
    assert merged.waits.set_index("team").loc["Research", "unserved_share"] == 0.0
    # Ada, Bob and Cy serve both items: 14 item-hours / (3 x 168).
    assert research["members"] == pytest.approx(3.0)
    assert research["load"] == pytest.approx(14 / 504)


def test_work_routed_to_a_team_with_nobody_is_never_served(world):
    facts = two_engineers(world)
    replay = demand(facts, WEEK)
    routed = Scenario("to nobody", routes=(Route("Core development", "Enablement"),))
    result = simulate(replay, routed, np.random.default_rng(0), runs=1, resample=False)
    waits = result.waits.set_index("team")
    # Enablement has no members, so no lanes: Ada's task (ENG, core development) waits
    # until the simulation ends, 12 weeks after the window.
    assert waits.loc["Enablement", "unserved_share"] == 1.0
    assert waits.loc["Infra", "unserved_share"] == 0.0


def test_a_scenario_round_trips_through_its_dict_and_names_bad_entries():
    data = {
        "name": "split",
        "moves": [{"person": "Ada", "team": "Infra", "from": "2025-03-03"}],
        "routes": [{"category": "DS support", "team": "Enablement"}],
        "splits": [
            {
                "team": "Squad",
                "parts": {"Infra": ["Ada"], "Enablement": ["Bo"]},
                "routes": {"Infrastructure": "Infra"},
            }
        ],
        "allocation": [{"team": "Infra", "category": "Core development", "fte": 1}],
    }
    scenario = scenario_from_dict(data)
    assert scenario_from_dict(scenario.to_dict()) == scenario
    assert scenario.people() == {"Ada", "Bo"}
    assert scenario.redacted({"Ada"}).people() == {"Ada", "(someone)"}
    with pytest.raises(ValueError, match=r"moves\[0\]: `from` must be a date"):
        scenario_from_dict({"name": "x", "moves": [{"person": "A", "team": "B", "from": "soon"}]})
    with pytest.raises(ValueError, match="unknown scenario key 'people'"):
        scenario_from_dict({"name": "x", "people": []})


@pytest.fixture(scope="module")
def before_reorg(small_facts, small_world):
    window = widen(
        small_world.reorg_date - dt.timedelta(weeks=12),
        small_world.reorg_date - dt.timedelta(days=1),
        small_facts.timezone,
    )
    return demand(small_facts, window)


@pytest.mark.slow
def test_no_change_reproduces_the_history_it_replays(small_facts, before_reorg):
    baseline = simulate(before_reorg, NO_CHANGE, np.random.default_rng(0), runs=100)
    checked = calibration(small_facts, before_reorg, baseline)
    by_team = checked["load_by_team"].set_index("team")
    # Every team's weekly load within 2% of what happened (mean absolute error / mean).
    assert (by_team["relative_error"] < 0.02).all(), by_team
    support = checked["support"].set_index(["team", "metric"])
    for metric in ("first_response", "resolution"):
        assert abs(support.loc[(ALL, metric), "relative_error"]) < 0.05, support


RESULT_ROUTES = {
    "Infrastructure": "Infra",
    "DS support": "Enablement",
    "Core development": "Enablement",
}


@pytest.fixture(scope="module")
def validation(small_facts, small_world):
    return validate_reorg(
        small_facts,
        small_world.reorg_date,
        "Squad",
        RESULT_ROUTES,
        np.random.default_rng(0),
        runs=100,
    )


@pytest.mark.slow
def test_the_split_is_read_from_who_went_where(small_facts, small_world):
    parts = split_of_reorg(small_facts, "Squad", small_world.reorg_date)
    assert set(parts) == {"Infra", "Enablement"}
    assert all(parts.values())


@pytest.mark.slow
def test_the_simulated_split_moves_support_times_the_way_the_reorg_did(validation):
    table = validation["table"]
    support = table[table["metric"] != "load"].dropna(subset=["direction_match"])
    assert len(support) >= 4
    assert support["direction_match"].all(), support


@pytest.mark.slow
def test_the_simulated_split_matches_every_direction_and_the_resolution_interval(validation):
    assert validation["passed"], validation["table"]
    table = validation["table"].set_index(["subject", "metric"])
    # both loads are compared (net of the season) and every support time of a part
    assert table.loc[("Squad -> Infra", "load"), "direction_match"]
    assert table.loc[("Squad -> Enablement", "load"), "direction_match"]
    overall = table.loc[("(all)", "resolution")]
    low, high = overall["measured_ci95"]
    assert low <= overall["predicted_change"] <= high < 0
