"""What the org-file models answer beyond their keys."""

from __future__ import annotations

import datetime as dt

from config.load import parse_config

ORG = """
org:
  teams: [{name: Squad}, {name: Infra}, {name: Empty}]
  people:
    - name: Ada
      memberships:
        - {team: Squad, from: 2024-01-01, to: 2025-03-02}
        - {team: Infra, from: 2025-03-03}
"""


def test_a_team_is_staffed_in_a_period_when_a_membership_overlaps_it() -> None:
    config = parse_config(ORG)
    day = dt.date.fromisoformat
    assert config.staffed_teams(day("2025-06-01"), day("2025-06-30")) == {"Infra"}
    # the last day of Squad and the first of Infra in one period: both
    assert config.staffed_teams(day("2025-03-02"), day("2025-03-03")) == {"Squad", "Infra"}
    assert config.staffed_teams(day("2023-01-01"), day("2023-12-31")) == set()
