"""Demand coupling: does a team's demand for support show up in the serving team's load?

For a requesting team A and a serving team B: the weekly count of support requests
from A served by B (by creation week, zero-filled) is correlated (Pearson) with B's
weekly load k weeks later, k = 0..4, both inside the window. The best lag is the one
with the highest r (ties: the shortest lag). An r needs at least 3 weeks with a load
and both series varying; otherwise it is None.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.support import UNASSIGNED
from metrics.weeks import Window

MAX_LAG = 4
MIN_PAIRS = 3
COUPLING: tuple[str, ...] = (
    "requesting_team",
    "serving_team",
    "n_requests",
    "best_lag_weeks",
    "r",
    "r_by_lag",
)


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson r over the pairs where both are known; None if fewer than 3 or constant."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    known = ~(np.isnan(x) | np.isnan(y))
    x, y = x[known], y[known]
    if len(x) < MIN_PAIRS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def lagged_r(demand: np.ndarray, load: np.ndarray, max_lag: int = MAX_LAG) -> list[float | None]:
    """r of demand[w] with load[w + k] for k = 0..max_lag."""
    weeks = len(demand)
    return [
        pearson(demand[: weeks - k], load[k:]) if k < weeks else None for k in range(max_lag + 1)
    ]


def weekly_demand(requests: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Support requests per (requesting team, serving team, week index) created in the window.

    Input: `support_requests` output. Output columns: requesting_team, serving_team,
    week (window week index), requests. Rows without a known requesting team or with an
    unassigned / unknown serving team are left out.
    """
    frame = requests[
        requests["requesting_team"].notna()
        & requests["serving_team"].notna()
        & (requests["serving_team"] != UNASSIGNED)
    ]
    frame = frame.drop_duplicates(["item_id", "requesting_team", "serving_team"])
    day = window.day_index(frame["created_at"])
    inside = (day >= 0) & (day < window.n_days)
    frame = frame[inside].assign(week=window.week_of_day(day[inside]))
    counts = frame.groupby(["requesting_team", "serving_team", "week"]).size()
    return counts.rename("requests").reset_index()


def coupling(
    requests: pd.DataFrame, load: pd.DataFrame, window: Window, teams: list[str] | None = None
) -> pd.DataFrame:
    """Best lag and r per (requesting, serving) pair with at least one request in the window.

    Input: `support_requests` output; team weekly load (team, week (Monday), load) for
    every serving team; window; teams (keep pairs where either side is one of them;
    None = all). Output columns: requesting_team, serving_team, n_requests,
    best_lag_weeks, r (None when no lag has an r), r_by_lag (list of 5, None where undefined).
    """
    demand = weekly_demand(requests, window)
    if teams is not None:
        wanted = set(teams)
        demand = demand[
            demand["requesting_team"].isin(wanted) | demand["serving_team"].isin(wanted)
        ]
    week_of = {w: i for i, w in enumerate(window.weeks)}
    rows = []
    for (asking, serving), group in demand.groupby(["requesting_team", "serving_team"], sort=True):
        series = np.zeros(window.n_weeks)
        series[group["week"].to_numpy()] = group["requests"].to_numpy()
        team_load = load[load["team"] == serving]
        loads = np.full(window.n_weeks, np.nan)
        index = np.array([week_of[w] for w in team_load["week"]], dtype=np.int64)
        loads[index] = team_load["load"].to_numpy(np.float64)
        by_lag = lagged_r(series, loads)
        known = [(r, k) for k, r in enumerate(by_lag) if r is not None]
        best_r, best_lag = max(known, key=lambda rk: (rk[0], -rk[1])) if known else (None, None)
        rows.append(
            {
                "requesting_team": asking,
                "serving_team": serving,
                "n_requests": int(series.sum()),
                "best_lag_weeks": best_lag,
                "r": best_r,
                "r_by_lag": by_lag,
            }
        )
    return pd.DataFrame(rows, columns=list(COUPLING))
