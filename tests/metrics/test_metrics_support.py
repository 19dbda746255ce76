"""Support requests: requesting and serving teams, first response, resolution, SLA breaches."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from metrics.support import UNASSIGNED, breaches, support_requests, target_hours
from tests.metrics.metrics_world import WorldBuilder, ts

NOW = "2025-02-01 00:00"


@pytest.fixture
def org(world: WorldBuilder) -> WorldBuilder:
    world.member("Ada", "Infra")
    world.member("Bob", "Research")
    world.member("Cy", "Enablement")
    return world


def requests_of(world: WorldBuilder, now: str = NOW) -> pd.DataFrame:
    return support_requests(world.facts(now)).set_index("item_id")


def test_a_request_first_answered_by_a_status_change(org):
    org.item(1, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob", assignee="Ada")
    org.comment(1, "2025-01-06 09:30", "Bob")  # the reporter adding detail is no response
    org.move(1, "2025-01-06 11:00", "In Progress", author="Ada")
    org.comment(1, "2025-01-06 12:00", "Ada")
    org.move(1, "2025-01-07 09:00", "Done", author="Ada")
    row = requests_of(org).loc[1]
    assert row["first_response_at"] == ts("2025-01-06 11:00")
    assert row["first_response_hours"] == 2.0  # 09:00 -> 11:00
    assert row["resolution_hours"] == 24.0  # 09:00 -> next day 09:00
    assert (row["requesting_team"], row["serving_team"]) == ("Research", "Infra")


def test_only_support_items_are_requests(org):
    org.item(1, "2025-01-06 09:00", issue_type="Task", reporter="Bob")
    org.item(2, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob")
    assert requests_of(org).index.tolist() == [2]


def test_the_requesting_team_is_the_reporters_team_at_creation(world):
    world.member("Bob", "Research", end="2025-01-07")
    world.member("Bob", "Enablement", start="2025-01-08")
    world.item(1, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob")
    world.item(2, "2025-01-09 09:00", issue_type="Support Request", reporter="Bob")
    requests = requests_of(world)
    assert requests["requesting_team"].tolist() == ["Research", "Enablement"]


def test_the_serving_team_is_the_assignees_when_done_else_the_current_assignees(org):
    org.item(1, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob", assignee="Ada")
    org.move(1, "2025-01-07 09:00", "Done", author="Ada")
    org.assign(1, "2025-01-08 09:00", "Cy")  # reassigned after it was done: still Ada's
    org.item(2, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob", assignee="Ada")
    org.assign(2, "2025-01-08 09:00", "Cy")  # open: its current assignee serves it
    org.item(3, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob")
    requests = requests_of(org)
    assert requests["serving_team"].tolist() == ["Infra", "Enablement", UNASSIGNED]
    assert requests["serving_person"].tolist()[:2] == ["Ada", "Cy"]
    assert pd.isna(requests["serving_person"].iloc[2])


def test_sla_targets_come_from_the_priority_or_the_default():
    targets = {"Highest": 4.0, "default": 24.0}
    priority = pd.Series(["Highest", "highest", "Low", None])
    assert target_hours(priority, targets).tolist() == [4.0, 4.0, 24.0, 24.0]
    assert math.isnan(target_hours(pd.Series(["Low"]), {"Highest": 4.0})[0])


def test_sla_breaches_include_requests_still_open_past_their_target(org):
    # Resolution targets: Highest 24 h, others 120 h (the test org file).
    def request(item_id: int, created: str, priority: str) -> None:
        org.item(
            item_id,
            created,
            issue_type="Support Request",
            reporter="Bob",
            assignee="Ada",
            priority=priority,
        )

    request(1, "2025-01-06 09:00", "Highest")
    org.move(1, "2025-01-07 15:00", "Done")  # 30 h > 24 h: breach
    request(2, "2025-01-06 09:00", "Medium")
    org.move(2, "2025-01-10 13:00", "Done")  # 100 h <= 120 h: within target
    request(3, "2025-01-06 09:00", "Medium")  # open; 2025-01-26 00:00 is 471 h later: breach
    request(4, "2025-01-25 00:00", "Medium")  # open; 24 h old at the end: not yet a breach
    as_of = ts("2025-01-26 00:00")
    judged = breaches(requests_of(org), as_of)
    assert judged["resolution_breach"].tolist() == [True, False, True, False]
    assert judged["resolution_breach"].mean() == 0.5  # 2 of 4


def test_first_response_breaches_are_judged_the_same_way(org):
    org.item(
        1, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob", priority="Highest"
    )
    org.comment(1, "2025-01-06 14:00", "Ada")  # 5 h > 4 h
    org.item(
        2, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob", priority="Highest"
    )
    org.comment(2, "2025-01-06 12:00", "Ada")  # 3 h
    org.item(3, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob")  # no answer yet
    judged = breaches(requests_of(org), ts("2025-01-06 20:00"))  # item 3 waited 11 h < 24 h
    assert judged["first_response_breach"].tolist() == [True, False, False]


def test_an_unknown_author_answers_a_known_reporter(org):
    org.item(1, "2025-01-06 09:00", issue_type="Support Request", reporter="Bob")
    org.comment(1, "2025-01-06 10:00", None)
    org.item(2, "2025-01-06 09:00", issue_type="Support Request", reporter=None)
    org.comment(2, "2025-01-06 10:00", None)
    requests = requests_of(org)
    assert requests.loc[1, "first_response_hours"] == 1.0
    assert math.isnan(requests.loc[2, "first_response_hours"])


def test_no_support_requests_give_an_empty_frame(world):
    requests = support_requests(world.facts(NOW))
    assert requests.empty
    assert "serving_team" in requests.columns
    assert breaches(requests, ts(NOW)).empty
