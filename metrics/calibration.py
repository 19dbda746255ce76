"""Calibration of the structure what-if (no change against history) and results against that baseline.

A scenario is never compared with raw history: the simulation has its own error (the
runs resample the window, lanes can clump), so a scenario's effect is its result minus
the no-change run's, and the no-change run's distance from history is shown beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from config.schema import Load
from metrics.facts import Facts
from metrics.load import DROUGHT, FLOOD, NORMAL, team_load
from metrics.simulation import ALL, Demand, Result

_TOLERANCE = 1e-9


def calibration(facts: Facts, demand: Demand, baseline: Result) -> dict[str, pd.DataFrame]:
    """The no-change run against what happened in the same window.

    Output: `load` (team, week, actual, simulated, error = simulated - actual) for every
    team-week with members; `load_by_team` (team, actual mean, simulated mean, mean
    absolute error, relative error = MAE / actual mean); `support` (team, metric,
    actual median, simulated median, error, relative error) for the requests created in
    the window.
    """
    actual = team_load(facts, demand.window, demand.teams)[["team", "week", "load"]]
    load = baseline.load.merge(actual, on=["team", "week"], suffixes=("", "_actual"))
    load = load[load["load_actual"].notna()].rename(
        columns={"load_actual": "actual", "load": "simulated"}
    )
    load["error"] = load["simulated"] - load["actual"]
    by_team = (
        load.groupby("team", sort=False)
        .agg(
            actual=("actual", "mean"),
            simulated=("simulated", "mean"),
            mae=("error", lambda e: float(np.mean(np.abs(e)))),
        )
        .reset_index()
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        by_team["relative_error"] = np.where(
            by_team["actual"] > 0, by_team["mae"] / by_team["actual"], np.nan
        )
    rows = []
    sup = demand.support
    for metric in ("first_response", "resolution"):
        for team in (ALL, *sorted({str(t) for t in sup["team"].dropna()})):
            values = sup[metric] if team == ALL else sup.loc[sup["team"] == team, metric]
            values = values.dropna()
            sim = baseline.support[
                (baseline.support["team"] == team) & (baseline.support["metric"] == metric)
            ]
            if values.empty or sim.empty:
                continue
            actual_median = float(values.median())
            simulated = float(sim["median"].iloc[0])
            rows.append(
                (
                    team,
                    metric,
                    actual_median,
                    simulated,
                    simulated - actual_median,
                    (simulated - actual_median) / actual_median if actual_median else np.nan,
                )
            )
    support = pd.DataFrame(
        rows, columns=["team", "metric", "actual", "simulated", "error", "relative_error"]
    )
    return {
        "load": load[["team", "week", "actual", "simulated", "error"]],
        "load_by_team": by_team,
        "support": support,
    }


def _state(load: np.ndarray, baseline: float, settings: Load) -> np.ndarray:
    """metrics/load.py's states, judged against a given baseline (the team's no-change median)."""
    state = np.full(len(load), None, dtype=object)
    known = ~np.isnan(load)
    if baseline == 0:
        flood, drought = known & (load > 0), np.zeros(len(load), bool)
    else:
        flood = known & (load >= settings.flood_factor * baseline - _TOLERANCE)
        drought = known & (load <= settings.drought_factor * baseline + _TOLERANCE) & ~flood
    state[known] = NORMAL
    state[flood] = FLOOD
    state[drought] = DROUGHT
    return state


def versus_baseline(baseline: Result, scenario: Result, settings: Load) -> dict[str, pd.DataFrame]:
    """A scenario's weekly loads, states and support times beside the no-change run's.

    A week's state is judged against the team's median no-change load (a team the
    baseline lacks, such as a new team of a split, against its own median), so a
    scenario that doubles a team's load shows floods. Output: `load` (team, week,
    baseline, scenario, change, scenario_p05, scenario_p95, baseline_state, state);
    `support` (team, metric, baseline, scenario, change, relative_change, scenario_p05,
    scenario_p95).
    """
    merged = scenario.load.merge(
        baseline.load[["team", "week", "load"]],
        on=["team", "week"],
        how="left",
        suffixes=("", "_baseline"),
    )
    parts = []
    for _team, rows in merged.groupby("team", sort=False):
        base = rows["load_baseline"].to_numpy(np.float64)
        mine = rows["load"].to_numpy(np.float64)
        reference = base if (~np.isnan(base)).any() else mine
        known = reference[~np.isnan(reference)]
        median = float(np.median(known)) if len(known) else 0.0
        parts.append(
            rows.assign(
                baseline_state=_state(base, median, settings), state=_state(mine, median, settings)
            )
        )
    load = (
        pd.concat(parts, ignore_index=True)
        if parts
        else merged.assign(baseline_state=None, state=None)
    )
    load = load.rename(
        columns={
            "load_baseline": "baseline",
            "load": "scenario",
            "load_p05": "scenario_p05",
            "load_p95": "scenario_p95",
        }
    )
    load["change"] = load["scenario"] - load["baseline"]
    support = scenario.support.merge(
        baseline.support[["team", "metric", "median"]],
        on=["team", "metric"],
        how="outer",
        suffixes=("", "_baseline"),
    )
    support = support.rename(
        columns={
            "median": "scenario",
            "median_baseline": "baseline",
            "p05": "scenario_p05",
            "p95": "scenario_p95",
        }
    )
    support["change"] = support["scenario"] - support["baseline"]
    with np.errstate(divide="ignore", invalid="ignore"):
        support["relative_change"] = support["change"] / support["baseline"]
    return {
        "load": load[
            [
                "team",
                "week",
                "members",
                "baseline",
                "scenario",
                "change",
                "scenario_p05",
                "scenario_p95",
                "baseline_state",
                "state",
            ]
        ],
        "support": support[
            [
                "team",
                "metric",
                "baseline",
                "scenario",
                "change",
                "relative_change",
                "scenario_p05",
                "scenario_p95",
            ]
        ],
    }
