"""Config rule matching: ordered categories, unplanned and support, on items and PRs."""

from __future__ import annotations

import pandas as pd

from metrics.rules import UNCATEGORIZED, category_names, item_rules, pull_rules
from tests.metrics.metrics_world import WorldBuilder, org_config


def rules_of(world: WorldBuilder) -> tuple[pd.DataFrame, pd.DataFrame]:
    facts = world.facts("2025-02-01 00:00")
    return facts.items.set_index("item_id"), facts.pulls.set_index("pr_id")


def test_the_first_matching_category_wins(world):
    world.item(1, "2025-01-06 09:00", project="ENG", labels=["infra"])  # Infrastructure and Core
    world.item(2, "2025-01-06 09:00", project="ENG")
    world.item(3, "2025-01-06 09:00", project="DS", issue_type="Support Request")
    world.item(4, "2025-01-06 09:00", project="DS")
    items, _ = rules_of(world)
    assert items["category"].tolist() == [
        "Infrastructure",
        "Core development",
        "DS support",
        UNCATEGORIZED,
    ]


def test_unplanned_and_support_follow_their_rules(world):
    world.item(1, "2025-01-06 09:00", issue_type="Bug")
    world.item(2, "2025-01-06 09:00", labels=["interrupt"])
    world.item(3, "2025-01-06 09:00", issue_type="Support Request")
    world.item(4, "2025-01-06 09:00", issue_type="Story")
    items, _ = rules_of(world)
    assert items["unplanned"].tolist() == [True, True, True, False]
    assert items["support"].tolist() == [False, False, True, False]


def test_matching_ignores_case(world):
    world.item(1, "2025-01-06 09:00", project="ds", labels=["INFRA"])
    world.item(2, "2025-01-06 09:00", project="eng", issue_type="support request")
    items, _ = rules_of(world)
    assert items["category"].tolist() == ["Infrastructure", "DS support"]


def test_pull_requests_match_repository_globs_and_labels_when_not_linked(world):
    world.pr(1, "Ada", "2025-01-06 09:00", repo="acme/infra-eks")
    world.pr(2, "Ada", "2025-01-06 09:00", repo="ACME/Models")
    world.pr(3, "Ada", "2025-01-06 09:00", repo="other/thing")
    _, pulls = rules_of(world)
    assert pulls["category"].tolist() == ["Infrastructure", "Core development", UNCATEGORIZED]


def test_a_linked_pull_request_takes_its_items_category_and_flags(world):
    world.item(7, "2025-01-06 09:00", project="DS", issue_type="Support Request")
    world.pr(1, "Ada", "2025-01-06 09:00", repo="acme/infra-eks", linked=[999, 7])
    _, pulls = rules_of(world)
    row = pulls.loc[1]
    assert row["linked_item_id"] == 7  # 999 is not a known item: the first known link counts
    assert row["category"] == "DS support"
    assert row["support"] and row["unplanned"]


def test_github_items_match_github_conditions_on_their_repository():
    config = org_config()
    world = WorldBuilder(config)
    world.item(1, "2025-01-06 09:00", source="github", project="acme/infra-ci", labels=["infra"])
    world.item(2, "2025-01-06 09:00", source="github", project="other/x", labels=["infra"])
    items, _ = rules_of(world)
    # Item 2: jira_labels do not apply to a GitHub item, and its repo matches no glob.
    assert items["category"].tolist() == ["Infrastructure", UNCATEGORIZED]


def test_category_names_list_every_rule_then_the_two_fallbacks(config):
    assert category_names(config) == [
        "Infrastructure",
        "DS support",
        "Core development",
        "uncategorized",
        "no tracked work",
    ]


def test_rules_of_no_items_and_no_pulls_are_empty(config):
    empty_items = item_rules(pd.DataFrame(), config)
    assert empty_items.empty and list(empty_items.columns) == [
        "item_id",
        "category",
        "unplanned",
        "support",
    ]
    empty_pulls = pull_rules(pd.DataFrame(), empty_items, config)
    assert empty_pulls.empty
