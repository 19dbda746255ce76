"""Concentration: who in a team quietly carries its support and unplanned work.

The work measured is person-day attribution (see `allocation`) on things that are
support requests or unplanned (items matching either rule, PRs linked to them or
matching them), counted while the person was a member of the team. Every member of
the team during the window counts, including those who carried none of it, since
the zeros are exactly what concentration is about.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.allocation import team_days
from metrics.facts import Facts
from metrics.rules import NO_TRACKED_WORK
from metrics.weeks import Window

CONCENTRATION: tuple[str, ...] = (
    "team",
    "members",
    "total_fte",
    "top1_person",
    "top1_share",
    "gini",
)


def gini(values: np.ndarray | list[float]) -> float | None:
    """Gini coefficient (population form: mean absolute difference / (2 x mean)); 0 is an
    even split, (n-1)/n everything on one of n people. None when the total is 0."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return None
    ranks = np.arange(1, n + 1)
    return float(2.0 * np.sum(ranks * x) / (n * x.sum()) - (n + 1) / n)


def concentration(
    facts: Facts, window: Window, teams: list[str], days: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Top-1 share and Gini of support + unplanned work per team over the window.

    Input: facts, window, teams, optionally `team_days`. Output columns: team, members
    (people who were members on a counted day), total_fte (support + unplanned
    FTE-weeks), top1_person (ties: first by name), top1_share, gini (None when the team
    did no such work).
    """
    days = team_days(facts, window) if days is None else days
    return concentration_of(days, teams)


def concentration_of(days: pd.DataFrame, teams: list[str]) -> pd.DataFrame:
    """`concentration` of given day rows (team, person, category, unplanned, support,
    weight), or of their weekly sums (`metrics.parts`)."""
    flagged = (days["unplanned"] | days["support"]) & (days["category"] != NO_TRACKED_WORK)
    weight = days["weight"].where(flagged, 0.0) / 5.0
    # Every member-day is a row, so this lists members with no such work too (as 0).
    per_person = weight.groupby([days["team"], days["person"]]).sum()
    rows = []
    for team in teams:
        members = sorted(per_person.loc[team].index) if team in per_person.index else []
        values = np.array([per_person.get((team, m), 0.0) for m in members], dtype=np.float64)
        total = float(values.sum())
        top = int(np.argmax(values)) if len(values) else -1
        rows.append(
            {
                "team": team,
                "members": len(members),
                "total_fte": total,
                "top1_person": members[top] if total > 0 else None,
                "top1_share": float(values[top] / total) if total > 0 else None,
                "gini": gini(values),
            }
        )
    return pd.DataFrame(rows, columns=list(CONCENTRATION))
