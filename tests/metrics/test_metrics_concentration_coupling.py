"""Concentration of support and unplanned work, and demand coupling between teams."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from metrics.concentration import concentration, gini
from metrics.coupling import coupling, lagged_r, pearson
from metrics.weeks import widen
from tests.metrics.metrics_world import ts

NOW = "2025-02-01 00:00"
WEEK = widen(dt.date(2025, 1, 6), dt.date(2025, 1, 12))


def test_gini_is_zero_for_an_even_split_and_high_when_one_carries_everything():
    assert gini([1.0, 1.0, 1.0, 1.0]) == 0.0
    # mean |xi - xj| over all 16 ordered pairs = 6 x 4 / 16 = 1.5; mean = 1 -> 1.5 / 2
    assert gini([0.0, 0.0, 0.0, 4.0]) == pytest.approx(0.75)
    assert gini([0.0, 0.0]) is None
    assert gini([]) is None


def test_concentration_finds_who_carries_support_and_unplanned_work(world):
    for person in ("Ada", "Bob", "Cy"):
        world.member(person, "Infra")

    def support_on(item_id: int, day: str, person: str) -> None:
        world.item(
            item_id, f"{day} 08:00", issue_type="Support Request", project="DS", assignee=person
        )
        world.move(item_id, f"{day} 09:00", "In Progress")
        world.move(item_id, f"{day} 17:00", "Done")

    support_on(1, "2025-01-06", "Ada")
    support_on(2, "2025-01-07", "Ada")
    support_on(3, "2025-01-08", "Bob")
    world.item(4, "2025-01-06 08:00", issue_type="Story", assignee="Cy")  # planned work only
    world.move(4, "2025-01-06 09:00", "In Progress")
    row = concentration(world.facts(NOW), WEEK, ["Infra"]).iloc[0]
    assert row["members"] == 3
    assert row["total_fte"] == pytest.approx(0.6)  # 3 support days / 5
    assert row["top1_person"] == "Ada"
    assert row["top1_share"] == pytest.approx(2 / 3)
    # values 0, 0.2, 0.4: sum of |differences| over ordered pairs 1.6, / 9 = 0.178; / (2 x 0.2)
    assert row["gini"] == pytest.approx(4 / 9)


def test_concentration_of_a_team_without_such_work_is_null(world):
    world.member("Ada", "Infra")
    row = concentration(world.facts(NOW), WEEK, ["Infra", "Research"]).set_index("team")
    assert row.loc["Infra", "members"] == 1 and row.loc["Infra", "top1_share"] is None
    assert row.loc["Research", "members"] == 0 and row.loc["Research", "gini"] is None


def test_pearson_needs_three_pairs_and_varying_series():
    assert pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])) == pytest.approx(1.0)
    assert pearson(np.array([1.0, 2.0]), np.array([2.0, 4.0])) is None
    assert pearson(np.array([1.0, 1.0, 1.0]), np.array([2.0, 4.0, 5.0])) is None
    assert pearson(
        np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, np.nan, 3.0, 4.0])
    ) == pytest.approx(1.0)


DEMAND = [1, 4, 2, 6, 3, 8, 2, 5, 1, 7, 3, 6]


def planted(lag: int) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    """Research asks Infra DEMAND[w] times in week w; Infra's load follows `lag` weeks later."""
    window = widen(
        dt.date(2025, 1, 6), dt.date(2025, 1, 6) + dt.timedelta(weeks=len(DEMAND), days=-1)
    )
    rows = []
    for week, count in enumerate(DEMAND):
        for k in range(count):
            created = ts("2025-01-06 10:00") + pd.Timedelta(weeks=week, minutes=k)
            rows.append((f"{week}-{k}", "Research", "Infra", created))
    requests = pd.DataFrame(
        rows, columns=["item_id", "requesting_team", "serving_team", "created_at"]
    )
    load = [0.5 * DEMAND[w - lag] + 1.0 if w >= lag else 9.0 for w in range(len(DEMAND))]
    loads = pd.DataFrame({"team": "Infra", "week": window.weeks, "load": load})
    return requests, loads, window


def test_coupling_finds_a_planted_two_week_lag():
    requests, loads, window = planted(2)
    row = coupling(requests, loads, window).iloc[0]
    assert (row["requesting_team"], row["serving_team"]) == ("Research", "Infra")
    assert row["n_requests"] == sum(DEMAND)
    assert row["best_lag_weeks"] == 2
    assert row["r"] == pytest.approx(1.0)
    assert (
        len(row["r_by_lag"]) == 5 and max(r for r in row["r_by_lag"] if r is not None) == row["r"]
    )


def test_lagged_r_pairs_demand_with_later_load():
    demand = np.array(DEMAND, dtype=float)
    load = np.r_[np.nan, demand[:-1]]  # load = last week's demand
    by_lag = lagged_r(demand, load)
    assert by_lag[1] == pytest.approx(1.0)
    assert all(r is None or r < 1.0 - 1e-9 for k, r in enumerate(by_lag) if k != 1)


def test_coupling_leaves_out_unassigned_and_unknown_teams_and_empty_input():
    requests, loads, window = planted(0)
    requests.loc[0, "serving_team"] = "unassigned"
    requests.loc[1, "requesting_team"] = None
    row = coupling(requests, loads, window).iloc[0]
    assert row["n_requests"] == sum(DEMAND) - 2
    empty = coupling(requests.iloc[:0], loads, window)
    assert empty.empty and "best_lag_weeks" in empty.columns


def test_coupling_keeps_pairs_touching_the_selected_teams():
    requests, loads, window = planted(1)
    assert len(coupling(requests, loads, window, ["Enablement"])) == 0
    assert len(coupling(requests, loads, window, ["Research"])) == 1
