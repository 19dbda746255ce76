"""What-if from the database: the one path the CLI and the dashboard share for scenarios and forecasts.

It decides what to read (the replayed window; everything for a forecast and its
backtest), reads it through `metrics.reading`, and runs the simulation or the
forecast; results come back as plain frames and dicts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from config.schema import Config
from db import queries
from metrics import delivery
from metrics.calibration import calibration, versus_baseline
from metrics.facts import Facts
from metrics.reading import facts_between, window_span
from metrics.scenario import NO_CHANGE, Scenario
from metrics.simulation import RUNS, Result, demand, simulate
from metrics.weeks import Window, monday, widen

SEED = 7
WEEKS = 12


def replay_window(
    config: Config, now: dt.datetime, weeks: int = WEEKS, end: dt.date | None = None
) -> Window:
    """The `weeks` whole weeks ending with the last full week before `now` (or `end`'s week)."""
    today = now.astimezone(config.org.tz).date()
    last = end or monday(today) - dt.timedelta(days=1)
    return widen(last - dt.timedelta(weeks=weeks) + dt.timedelta(days=1), last, config.org.timezone)


@dataclass
class Outcome:
    """A scenario's runs beside the no-change baseline and the baseline's calibration."""

    window: Window
    baseline: Result
    scenario: Result
    compared: dict[str, pd.DataFrame]
    calibration: dict[str, pd.DataFrame]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every result as a table (the CSV downloads and the CLI's tables)."""
        weekly = self.compared["load"]
        staffed = weekly.groupby("team")["members"].transform("max") > 0
        weekly = weekly[staffed.to_numpy()].reset_index(drop=True)
        by_team = (
            weekly.groupby("team", sort=False)
            .agg(
                members=("members", "mean"),
                baseline_load=("baseline", "mean"),
                scenario_load=("scenario", "mean"),
                baseline_floods=("baseline_state", lambda s: int((s == "flood").sum())),
                scenario_floods=("state", lambda s: int((s == "flood").sum())),
                baseline_droughts=("baseline_state", lambda s: int((s == "drought").sum())),
                scenario_droughts=("state", lambda s: int((s == "drought").sum())),
            )
            .reset_index()
        )
        return {
            "load_by_team": by_team,
            "load_by_week": weekly,
            "support": self.compared["support"],
            "waits": self.scenario.waits,
            "calibration_load": self.calibration["load_by_team"],
            "calibration_support": self.calibration["support"],
        }


def facts_for(conn: Connection, config: Config, window: Window, now: dt.datetime) -> Facts:
    """The facts of everything alive in the replayed window."""
    return facts_between(
        conn, config, window_span(config, window.first_day, window.last_day, now), now
    )


def run_facts(
    facts: Facts, scenario: Scenario, window: Window, runs: int = RUNS, seed: int = SEED
) -> Outcome:
    """Baseline and scenario over the same replayed demand, each with its own seeded runs."""
    replay = demand(facts, window)
    baseline = simulate(replay, NO_CHANGE, np.random.default_rng(seed), runs)
    result = simulate(replay, scenario, np.random.default_rng(seed), runs)
    return Outcome(
        window=window,
        baseline=baseline,
        scenario=result,
        compared=versus_baseline(baseline, result, facts.config.load),
        calibration=calibration(facts, replay, baseline),
    )


def run_scenario(
    conn: Connection,
    config: Config,
    scenario: Scenario,
    now: dt.datetime,
    weeks: int = WEEKS,
    end: dt.date | None = None,
    runs: int = RUNS,
) -> Outcome:
    window = replay_window(config, now, weeks, end)
    return run_facts(facts_for(conn, config, window, now), scenario, window, runs)


def all_facts(conn: Connection, config: Config, now: dt.datetime) -> Facts:
    """Everything stored (a forecast's backtest needs every finished epic)."""
    span = queries.data_span(conn)
    lo = span[0] if span else now - dt.timedelta(days=7)
    return facts_between(conn, config, (lo.astimezone(dt.UTC), now.astimezone(dt.UTC)), now)


def forecast_with_backtest(
    facts: Facts,
    scope: delivery.Scope,
    fte_change: float = 0.0,
    fte_changes: dict[tuple[str, str], float] | None = None,
    runs: int = delivery.RUNS,
    seed: int = SEED,
) -> dict[str, Any]:
    """The scope's forecast as of the facts' `now`, and the backtest over finished epics."""
    start = facts.frames.items["created_at"].min() if len(facts.frames.items) else facts.now
    history = delivery.delivery_history(
        facts,
        (pd.Timestamp(start) - pd.Timedelta(weeks=delivery.LOOKBACK_WEEKS + 1)).date(),
        facts.now.date(),
    )
    result = delivery.forecast(
        facts,
        scope,
        facts.now,
        np.random.default_rng(seed),
        history=history,
        fte_change=fte_change,
        fte_changes=fte_changes,
        runs=runs,
    )
    checked = delivery.backtest(facts, np.random.default_rng(seed), history=history)
    return {"forecast": result, "backtest": checked}
