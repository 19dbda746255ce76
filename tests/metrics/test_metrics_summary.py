"""The JSON contract of `teamtide metrics` and its tidy tables."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pytest

from metrics.facts import Facts
from metrics.frames import Frames
from metrics.samples import ALL_TEAMS, TURNAROUND_METRICS, item_samples, pr_samples
from metrics.summary import reorg_comparisons, summary, summary_from_facts
from metrics.support import support_requests
from metrics.tables import summary_tables
from tests.metrics.metrics_world import WorldBuilder, org_config, ts

NOW = ts("2025-03-31 12:00")
STATS = {"n", "p50", "p85", "p95"}


@pytest.fixture(scope="module")
def story() -> WorldBuilder:
    """Infra serves Research; three Infra items done in January; a reorg on 2025-03-03."""
    world = WorldBuilder(
        org_config(
            org={
                "timezone": "UTC",
                "teams": [{"name": "Infra"}, {"name": "Research"}, {"name": "Enablement"}],
                "reorgs": [{"date": "2025-03-03", "name": "Squad split"}],
            }
        )
    )
    world.member("Ada", "Infra")
    world.member("Bob", "Research")
    for item_id, hours in ((1, 10), (2, 20), (3, 40)):
        world.item(item_id, "2025-01-06 08:00", assignee="Ada", labels=["infra"], project="DS")
        world.move(item_id, "2025-01-06 09:00", "In Progress")
        world.move(item_id, str(ts("2025-01-06 09:00") + np.timedelta64(hours, "h"))[:16], "Done")
    world.item(
        4,
        "2025-01-07 09:00",
        issue_type="Support Request",
        project="DS",
        reporter="Bob",
        assignee="Ada",
    )
    world.comment(4, "2025-01-07 12:00", "Ada")
    world.move(4, "2025-01-08 09:00", "Done", author="Ada")
    world.pr(1, "Ada", "2025-01-07 09:00", repo="acme/infra-eks", merged="2025-01-07 15:00")
    world.review(1, "Bob", "2025-01-07 11:00")
    world.pr(2, "Bob", "2025-01-07 09:00", repo="acme/models")  # not Infra's
    for k in range(6):  # support before and after the reorg, resolved faster after
        before, after = 100 + k, 200 + k
        world.item(
            before,
            f"2025-02-1{k} 09:00",
            issue_type="Support Request",
            project="DS",
            reporter="Bob",
            assignee="Ada",
        )
        world.move(before, f"2025-02-1{k} 19:00", "Done")  # 10 h
        world.item(
            after,
            f"2025-03-1{k} 09:00",
            issue_type="Support Request",
            project="DS",
            reporter="Bob",
            assignee="Ada",
        )
        world.move(after, f"2025-03-1{k} 11:00", "Done")  # 2 h
    return world


@pytest.fixture(scope="module")
def report(story: WorldBuilder) -> dict[str, Any]:
    return report_of(story)


def report_of(world: WorldBuilder, teams: list[str] | None = None, **kw: Any) -> dict[str, Any]:
    return summary(
        world.frames(), world.config, dt.date(2025, 1, 8), dt.date(2025, 1, 19), teams, NOW, **kw
    )


def only_plain_json(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_plain_json(v) for v in value)
    return value is None or type(value) in (str, int, float, bool)


def test_the_report_has_every_key_of_the_contract(report):
    assert (report["from"], report["to"], report["timezone"]) == ("2025-01-06", "2025-01-19", "UTC")
    assert {"teams", "coupling", "reorgs"} <= set(report)
    team = report["teams"][0]
    assert team["team"] == "Infra"
    allocation = team["allocation"]
    assert {"share", "unplanned_share", "weekly"} <= set(allocation)
    assert [w["week"] for w in allocation["weekly"]] == ["2025-01-06", "2025-01-13"]
    assert {"week", "fte"} <= set(allocation["weekly"][0])
    for key in ("cycle_time_hours", "lead_time_hours", "pr_first_review_hours", "pr_merge_hours"):
        assert set(team["turnaround"][key]) == STATS
    support = team["support"]
    assert {"n", "first_response_hours", "resolution_hours", "sla_breach_rate"} <= set(support)
    load = team["load"]
    assert {
        "baseline",
        "cv",
        "flood_weeks",
        "drought_weeks",
        "longest_flood",
        "longest_drought",
    } <= set(load)
    assert {"week", "load", "state"} <= set(load["weekly"][0])
    assert {"active_time_hours", "flow_efficiency", "skipped_start", "pr_breakdown_hours"} <= set(
        team["turnaround"]
    )
    assert {"top1_share", "gini"} <= set(team["concentration"])
    pair = report["coupling"][0]
    assert {"requesting_team", "serving_team", "best_lag_weeks", "r"} <= set(pair)
    reorg = report["reorgs"][0]
    assert (reorg["date"], reorg["name"]) == ("2025-03-03", "Squad split")
    keys = {
        "team",
        "metric",
        "before_median",
        "after_median",
        "change",
        "ci95",
        "p_value",
        "n_before",
        "n_after",
    }
    assert all(keys <= set(row) for row in reorg["comparisons"])


def test_the_report_is_plain_json_without_nan(report):
    json.dumps(report, allow_nan=False)
    assert only_plain_json(report)


def test_every_category_is_present_with_zeros(report):
    expected = [
        "Infrastructure",
        "DS support",
        "Core development",
        "uncategorized",
        "no tracked work",
    ]
    for team in report["teams"]:
        assert list(team["allocation"]["share"]) == expected
        assert list(team["allocation"]["fte"]) == expected
        for week in team["allocation"]["weekly"]:
            assert list(week["fte"]) == expected
    research = report["teams"][1]["allocation"]
    # Bob's open PR to acme/models (Core development) from Tuesday 7th: 9 of 10 weekdays.
    assert research["share"]["Infrastructure"] == 0.0
    assert research["share"]["Core development"] == pytest.approx(0.9)
    assert research["share"]["no tracked work"] == pytest.approx(0.1)
    enablement = report["teams"][2]["allocation"]  # no members: 0/0 is null, still listed
    assert list(enablement["share"]) == expected
    assert set(enablement["share"].values()) == {None}
    assert set(enablement["weekly"][0]["fte"].values()) == {0.0}


def test_team_figures_count_what_happened_in_the_window_by_members(report):
    infra = report["teams"][0]
    turnaround = infra["turnaround"]
    # cycle times 10, 20, 40 h: p50 20; p85 at rank 1.7 -> 20 + 0.7 x 20; p95 at 1.9 -> 38
    assert turnaround["cycle_time_hours"] == {"n": 3, "p50": 20.0, "p85": 34.0, "p95": 38.0}
    assert turnaround["lead_time_hours"]["n"] == 4  # and the support request, done 2025-01-08
    assert turnaround["skipped_start"] == 1  # the support request went straight to Done
    assert turnaround["pr_merge_hours"] == {"n": 1, "p50": 6.0, "p85": 6.0, "p95": 6.0}
    assert turnaround["pr_first_review_hours"]["p50"] == 2.0
    assert turnaround["pr_breakdown_hours"]["review"]["mean"] == 4.0  # review 11:00 -> merged 15:00
    support = infra["support"]
    assert support["n"] == 1  # the February and March requests are outside the window
    assert support["first_response_hours"]["p50"] == 3.0
    assert support["resolution_hours"]["p50"] == 24.0
    assert support["sla_breach_rate"] == 0.0
    research = report["teams"][1]
    assert research["support"]["n"] == 0 and research["support"]["requested"]["n"] == 1
    assert research["turnaround"]["pr_merge_hours"]["n"] == 0  # Bob's PR is still open


def test_the_reorg_comparison_sees_the_faster_support(report):
    reorg = report["reorgs"][0]
    rows = {(r["team"], r["metric"]): r for r in reorg["comparisons"]}
    assert {
        (team, metric)
        for team in ("Infra", "Research", "Enablement")
        for metric in TURNAROUND_METRICS
    } <= set(rows)
    served = rows[("Infra", "support_resolution_hours")]
    assert (served["n_before"], served["n_after"]) == (6, 6)
    assert (served["before_median"], served["after_median"], served["change"]) == (10.0, 2.0, -0.8)
    assert served["p_value"] < 0.05
    asked = rows[("Research", "requested_support_resolution_hours")]
    assert asked["change"] == -0.8
    assert rows[(ALL_TEAMS, "support_resolution_hours")]["n_after"] == 6


def test_selected_teams_limit_the_report(story):
    report = report_of(story, ["Research"])
    assert [t["team"] for t in report["teams"]] == ["Research"]
    assert {r["team"] for r in report["reorgs"][0]["comparisons"]} == {"Research", ALL_TEAMS}


def test_the_reorg_comparisons_are_the_same_whatever_the_window(story, report):
    facts = Facts.build(story.frames(), story.config, NOW)
    later = summary_from_facts(facts, dt.date(2025, 3, 3), dt.date(2025, 3, 30), None)
    assert later["reorgs"] == report["reorgs"] == reorg_comparisons(facts, None)
    assert reorg_comparisons(facts, ["Research"]) == report_of(story, ["Research"])["reorgs"]


def test_a_report_without_the_reorgs_differs_only_by_leaving_them_out(story, report):
    facts = Facts.build(story.frames(), story.config, NOW)
    bare = summary_from_facts(facts, dt.date(2025, 1, 8), dt.date(2025, 1, 19), None, reorgs=False)
    assert bare["reorgs"] == [] and report["reorgs"]
    assert bare == {**report, "reorgs": []}


def test_the_window_free_tables_are_computed_once_per_facts(story):
    facts = Facts.build(story.frames(), story.config, NOW)
    for table in (item_samples, pr_samples, support_requests):
        assert table(facts) is table(facts)
    again = Facts.build(story.frames(), story.config, NOW)
    assert item_samples(again) is not item_samples(facts)
    assert item_samples(again).equals(item_samples(facts))


def test_an_empty_world_still_gives_the_whole_shape():
    world = WorldBuilder(org_config())
    report = summary(Frames(), world.config, dt.date(2025, 1, 6), dt.date(2025, 1, 12), None, NOW)
    json.dumps(report, allow_nan=False)
    assert [t["team"] for t in report["teams"]] == ["Infra", "Research", "Enablement"]
    team = report["teams"][0]
    assert team["turnaround"]["cycle_time_hours"] == {"n": 0, "p50": None, "p85": None, "p95": None}
    assert team["load"]["weekly"] == [
        {"week": "2025-01-06", "load": None, "state": None, "members": 0.0}
    ]
    assert team["support"]["sla_breach_rate"] is None
    assert report["coupling"] == [] and report["reorgs"] == []


def test_tidy_tables_hold_the_same_numbers(report):
    tables = summary_tables(report)
    assert set(tables) >= {
        "allocation_share",
        "allocation_weekly",
        "turnaround",
        "support",
        "load_weekly",
        "coupling",
        "reorgs",
    }
    turnaround = tables["turnaround"].set_index(["team", "metric"])
    assert turnaround.loc[("Infra", "cycle_time_hours"), "p85"] == 34.0
    weekly = tables["allocation_weekly"]
    assert len(weekly) == (3 + 1) * 2 * 5  # (teams + the org's rows) x weeks x categories
    assert set(weekly["team"]) == {"Infra", "Research", "Enablement", ALL_TEAMS}
    reorgs = tables["reorgs"]
    row = reorgs[
        (reorgs["team"] == "Infra") & (reorgs["metric"] == "support_resolution_hours")
    ].iloc[0]
    assert row["change"] == -0.8 and row["ci95_low"] <= row["ci95_high"]


def test_an_unknown_team_is_an_error_listing_the_known_ones(story):
    with pytest.raises(ValueError, match=r"unknown team 'Infar'.*Infra, Research, Enablement"):
        report_of(story, ["Infar"])
