"""The org-wide block of `teamtide metrics` and the support `opened` / `resolved` counts.

Hand-made worlds, the arithmetic in comments. The window is the week of Monday
2025-01-06 (UTC), seen from 2025-01-20, so every day of it has begun and ended.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from metrics.samples import ALL_TEAMS
from metrics.summary import summary
from metrics.tables import summary_tables
from tests.metrics.metrics_world import WorldBuilder, org_config, ts

NOW = ts("2025-01-20 12:00")
WEEK_HOURS = 7 * 24


def report_of(world: WorldBuilder, teams: list[str] | None = None) -> dict[str, Any]:
    return summary(
        world.frames(), world.config, dt.date(2025, 1, 6), dt.date(2025, 1, 12), teams, NOW
    )


@pytest.fixture(scope="module")
def world() -> WorldBuilder:
    """Ada (Infra), Bob (Research), Cy (Enablement from Wednesday 8th), Dee (in no team)."""
    world = WorldBuilder(org_config())
    world.member("Ada", "Infra")
    world.member("Bob", "Research")
    world.member("Cy", "Enablement", start="2025-01-08")
    # Ada: item 1 (label infra) active Mon 09:00 -> Tue 17:00 (cycle 32 h, lead 33 h)
    world.item(1, "2025-01-06 08:00", assignee="Ada", labels=["infra"])
    world.move(1, "2025-01-06 09:00", "In Progress")
    world.move(1, "2025-01-07 17:00", "Done")
    # Bob: item 2 (ENG: Core development) active Tue 10:00 -> Thu 10:00 (cycle 48 h, lead 50 h)
    world.item(2, "2025-01-07 08:00", assignee="Bob")
    world.move(2, "2025-01-07 10:00", "In Progress")
    world.move(2, "2025-01-09 10:00", "Done")
    # Dee is in no team: her item (cycle 5 h) and PR count for nobody, the org included
    world.item(3, "2025-01-06 08:00", assignee="Dee")
    world.move(3, "2025-01-06 09:00", "In Progress")
    world.move(3, "2025-01-06 14:00", "Done")
    # PR 1, Bob's, acme/models (Core development): reviewed after 4 h, merged after 51 h
    world.pr(1, "Bob", "2025-01-06 09:00", repo="acme/models", merged="2025-01-08 12:00")
    world.review(1, "Ada", "2025-01-06 13:00")
    # PR 2, Ada's, acme/infra-eks (Infrastructure): reviewed after 1 h, merged after 6 h
    world.pr(2, "Ada", "2025-01-07 09:00", repo="acme/infra-eks", merged="2025-01-07 15:00")
    world.review(2, "Bob", "2025-01-07 10:00")
    world.pr(3, "Dee", "2025-01-06 09:00", repo="acme/models", merged="2025-01-06 10:00")
    world.review(3, "Bob", "2025-01-06 09:30")
    support = {"issue_type": "Support Request", "project": "DS"}
    # 10: Bob asks, Ada serves (Infra): answered after 2 h, resolved after 24 h, in the week
    world.item(10, "2025-01-06 10:00", reporter="Bob", assignee="Ada", **support)
    world.comment(10, "2025-01-06 12:00", "Ada")
    world.move(10, "2025-01-07 10:00", "Done")
    # 11: opened the week before, resolved on Thursday by Cy (Enablement by then): 168 h
    world.item(11, "2025-01-02 10:00", reporter="Bob", assignee="Cy", **support)
    world.move(11, "2025-01-09 10:00", "Done")
    # 12: Bob asks on Wednesday; nobody has picked it up
    world.item(12, "2025-01-08 09:00", reporter="Bob", **support)
    # 13: Ada asks on Thursday (Highest: 4 h / 24 h targets), Bob (Research) has it, still open
    world.item(
        13, "2025-01-09 09:00", reporter="Ada", assignee="Bob", priority="Highest", **support
    )
    # 14: Dee asks and serves herself: in no team, so neither served nor requested by the org
    world.item(14, "2025-01-10 09:00", reporter="Dee", assignee="Dee", **support)
    world.move(14, "2025-01-10 12:00", "Done")
    return world


@pytest.fixture(scope="module")
def report(world: WorldBuilder) -> dict[str, Any]:
    return report_of(world)


def teams_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["team"]: t for t in report["teams"]}


def test_the_org_block_is_a_new_key_shaped_like_a_team_block(report):
    json.dumps(report, allow_nan=False)
    org, infra = report["org"], report["teams"][0]
    assert (org["team"], org["teams"]) == (ALL_TEAMS, ["Infra", "Research", "Enablement"])
    for section in ("allocation", "turnaround", "support", "load"):
        assert set(org[section]) >= set(infra[section]) - {"requested"}, section
    assert set(org["support"]["requested"]) == set(infra["support"]["requested"])
    assert list(org["allocation"]["share"]) == report["categories"]
    # the existing keys are all still there
    assert {"teams", "coupling", "reorgs", "unassigned_support_requests"} <= set(report)


def test_org_allocation_counts_every_member_day_once(report):
    allocation = report["org"]["allocation"]
    (week,) = allocation["weekly"]
    # Ada: Mon item 1, Tue item 1 + PR 2 (both Infrastructure), Wed-Fri nothing: 2 + 3 days.
    # Bob: Mon PR 1; Tue, Wed item 2 + PR 1 (0.5 each); Thu item 2 (Core development); Fri
    # nothing: 4 + 1 days. Cy: Wed-Fri, nothing: 3 days. Dee is in no team: not counted.
    # Infrastructure 2/5 = 0.4 FTE, Core development 4/5 = 0.8, no tracked work 7/5 = 1.4.
    assert week["fte"]["Infrastructure"] == pytest.approx(0.4)
    assert week["fte"]["Core development"] == pytest.approx(0.8)
    assert week["fte"]["no tracked work"] == pytest.approx(1.4)
    assert week["total_fte"] == pytest.approx(2.6)
    # shares over 2.6 FTE; one elapsed week, so the average FTE is the week's
    assert allocation["share"]["Infrastructure"] == pytest.approx(0.4 / 2.6)
    assert allocation["share"]["Core development"] == pytest.approx(0.8 / 2.6)
    assert allocation["fte"]["no tracked work"] == pytest.approx(1.4)
    # nothing matched the unplanned rule (no bug, support request or interrupt label worked)
    assert allocation["unplanned_share"] == 0.0
    assert allocation["planned_fte"] == pytest.approx(1.2)


def test_org_allocation_is_the_sum_of_the_teams_when_nobody_is_in_two(report):
    teams = report["teams"]
    org = report["org"]["allocation"]
    for category in report["categories"]:
        total = sum(t["allocation"]["fte"][category] for t in teams)
        assert org["fte"][category] == pytest.approx(total), category
        for w, week in enumerate(org["weekly"]):
            total = sum(t["allocation"]["weekly"][w]["fte"][category] for t in teams)
            assert week["fte"][category] == pytest.approx(total), (category, week["week"])
    for key in ("total_fte", "planned_fte", "unplanned_fte"):
        total = sum(t["allocation"]["weekly"][0][key] for t in teams)
        assert org["weekly"][0][key] == pytest.approx(total), key


def test_org_turnaround_counts_members_work_only(report):
    turnaround = report["org"]["turnaround"]
    # items done by members: 1 (32 h) and 2 (48 h); Dee's item 3 is not the org's.
    # p50 = 40; p85 at rank 0.85 -> 32 + 0.85 x 16 = 45.6; p95 -> 32 + 0.95 x 16 = 47.2
    assert turnaround["cycle_time_hours"] == {"n": 2, "p50": 40.0, "p85": 45.6, "p95": 47.2}
    # lead: items 1 (33 h), 2 (50 h) and the requests done by members, 10 (24 h, by Ada) and
    # 11 (168 h, by Cy); sorted 24, 33, 50, 168: p50 = (33 + 50) / 2
    assert turnaround["lead_time_hours"]["n"] == 4
    assert turnaround["lead_time_hours"]["p50"] == 41.5
    assert (turnaround["done_items"], turnaround["skipped_start"]) == (4, 2)
    # PRs by members: 1 (first review after 4 h, merged after 51 h) and 2 (1 h, 6 h)
    # first review p50 = 2.5, p85 = 1 + 0.85 x 3 = 3.55; merge p50 = (6 + 51) / 2
    review = turnaround["pr_first_review_hours"]
    assert (review["n"], review["p50"], review["p85"]) == (2, 2.5, pytest.approx(3.55))
    assert turnaround["pr_merge_hours"]["p50"] == 28.5


def test_org_support_is_what_the_teams_serve_and_says_how_many_nobody_does(report):
    support = report["org"]["support"]
    # opened in the week and served by a team: 10 (Infra) and 13 (Research); 12 is unassigned
    # and 14 served by Dee (no team): neither is the org's
    assert (support["n"], support["opened"]) == (2, 2)
    # done in the week, served by a team: 10 (Tue) and 11 (Thu, opened the week before)
    assert support["resolved"] == 2
    assert support["open"] == 1  # 13
    assert support["unassigned"] == 1 == report["unassigned_support_requests"]  # 12
    # 13 (Highest) is open at the week's end after 87 h: over both its 24 h and 4 h targets;
    # 10 was answered in 2 h and resolved in 24 h (targets 24 h, 120 h): 1 of 2 breached each
    assert support["sla_breach_rate"] == 0.5
    assert support["first_response_breach_rate"] == 0.5
    assert support["first_response_hours"] == {"n": 1, "p50": 2.0, "p85": 2.0, "p95": 2.0}
    assert support["resolution_hours"]["n"] == 1 and support["resolution_hours"]["p50"] == 24.0
    # requested by members: opened 10, 12 (Bob), 13 (Ada); resolved in the week 10, 11 (Bob)
    requested = support["requested"]
    assert (requested["n"], requested["opened"], requested["resolved"]) == (3, 3, 2)


def test_each_team_counts_what_it_resolved_in_the_week_whenever_opened(report):
    teams = teams_of(report)
    infra, research, enablement = teams["Infra"], teams["Research"], teams["Enablement"]
    # Infra: opened and resolved 10
    assert [infra["support"][k] for k in ("n", "opened", "resolved", "open")] == [1, 1, 1, 0]
    # Research: opened 13 (still open), resolved nothing
    assert [research["support"][k] for k in ("n", "opened", "resolved", "open")] == [1, 1, 0, 1]
    # Enablement: opened nothing, resolved 11 (opened 2 January, served by Cy when done)
    assert [enablement["support"][k] for k in ("n", "opened", "resolved")] == [0, 0, 1]
    # Research asked for 10, 12 (opened in the week) and 11; 10 and 11 were resolved in it
    asked = research["support"]["requested"]
    assert (asked["opened"], asked["resolved"]) == (2, 2)
    assert infra["support"]["requested"]["opened"] == 1  # Ada asked for 13


def test_org_load_is_work_in_progress_per_person_over_all_members(report):
    load = report["org"]["load"]
    (week,) = load["weekly"]
    # active item-hours of members: item 1 (Ada) 32 h, item 2 (Bob) 48 h = 80 h; member-hours:
    # Ada and Bob the whole week (168 h each), Cy from Wednesday (5 x 24 = 120 h) = 456 h
    assert week["load"] == pytest.approx(80 / 456)
    assert week["members"] == pytest.approx(456 / WEEK_HOURS)
    # one week: it is its own baseline, so a normal week
    assert load["baseline"] == pytest.approx(80 / 456)
    assert week["state"] == "normal"
    assert (load["flood_weeks"], load["drought_weeks"]) == (0, 0)


def test_the_org_block_ignores_the_team_selection(world, report):
    only = report_of(world, ["Research"])
    assert [t["team"] for t in only["teams"]] == ["Research"]
    assert only["org"] == report["org"]


def test_the_tables_hold_the_org_rows_as_team_all(report):
    tables = summary_tables(report)
    support = tables["support"].set_index("team")
    assert support.loc[ALL_TEAMS, ["n", "opened", "resolved", "unassigned"]].tolist() == [
        2,
        2,
        2,
        1,
    ]
    assert support.loc["Enablement", "resolved"] == 1
    turnaround = tables["turnaround"].set_index(["team", "metric"])
    assert turnaround.loc[(ALL_TEAMS, "cycle_time_hours"), "p85"] == pytest.approx(45.6)
    share = tables["allocation_share"].set_index(["team", "category"])
    assert share.loc[(ALL_TEAMS, "Core development"), "fte"] == pytest.approx(0.8)
    load = tables["load_summary"]
    assert load[load["team"] == ALL_TEAMS]["person"].isna().all()
    assert ALL_TEAMS not in set(tables["concentration"]["team"])


def test_a_person_in_two_teams_is_one_person_to_the_org():
    """Eve is in Infra and Research all week, Fay in Infra only."""
    world = WorldBuilder(org_config())
    world.member("Eve", "Infra")
    world.member("Eve", "Research")
    world.member("Fay", "Infra")
    # Eve's item 1 (infra) active Mon 08:00 -> Fri 08:00: Mon-Fri Infrastructure, cycle 96 h
    world.item(1, "2025-01-06 08:00", assignee="Eve", labels=["infra"])
    world.move(1, "2025-01-06 08:00", "In Progress")
    world.move(1, "2025-01-10 08:00", "Done")
    world.item(2, "2025-01-07 09:00", reporter="Fay", assignee="Eve", issue_type="Support Request")
    world.move(2, "2025-01-07 11:00", "Done")
    report = report_of(world)
    teams, org = teams_of(report), report["org"]
    # the teams: Infra = Eve 1.0 + Fay 1.0 (no tracked work) = 2.0 FTE, Research = Eve 1.0;
    # their sum (3.0) counts Eve twice, the org once: 2.0 FTE, half of it Infrastructure
    assert teams["Infra"]["allocation"]["weekly"][0]["total_fte"] == pytest.approx(2.0)
    assert teams["Research"]["allocation"]["weekly"][0]["total_fte"] == pytest.approx(1.0)
    assert org["allocation"]["weekly"][0]["total_fte"] == pytest.approx(2.0)
    assert org["allocation"]["share"]["Infrastructure"] == pytest.approx(0.5)
    # item 1 and request 2 were done by Eve: in both teams' figures, once in the org's
    assert teams["Research"]["turnaround"]["cycle_time_hours"]["n"] == 1
    assert org["turnaround"]["cycle_time_hours"] == {"n": 1, "p50": 96.0, "p85": 96.0, "p95": 96.0}
    assert org["turnaround"]["done_items"] == 2
    assert (teams["Infra"]["support"]["n"], teams["Research"]["support"]["n"]) == (1, 1)
    assert (org["support"]["n"], org["support"]["resolved"]) == (1, 1)
    # load: 96 active item-hours over Eve's and Fay's 2 x 168 member-hours (Eve once)
    (week,) = org["load"]["weekly"]
    assert week["load"] == pytest.approx(96 / (2 * WEEK_HOURS))
    assert week["members"] == pytest.approx(2.0)


def test_an_empty_org_has_the_whole_org_block():
    world = WorldBuilder(org_config())
    report = report_of(world)
    json.dumps(report, allow_nan=False)
    org = report["org"]
    assert org["support"]["resolved"] == 0 and org["support"]["unassigned"] == 0
    assert org["turnaround"]["cycle_time_hours"]["n"] == 0
    assert set(org["allocation"]["share"].values()) == {None}  # no member-days: 0/0
    assert org["load"]["weekly"][0]["load"] is None
