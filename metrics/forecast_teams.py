"""Each team's load forecast for the coming weeks, with its drivers and its backtest: the `forecast` block.

History: the team's weekly load (`metrics.load.team_load`, DESIGN.md's definition) over
the complete weeks before `now`'s week (at most `HISTORY_WEEKS`), from its first week
with members. Week 1 of the forecast is the week `now` falls in.

- Period: found (`forecast.find_period`) on the team's own load when it has at least a
  year of it, else on the org's load (a team born in a reorg inherits its people's cycle).
- Serving relationship: of the teams whose support requests this team serves, the one
  whose demand best leads its load (`metrics.coupling`: best lag and r); a candidate
  regressor when r >= `MIN_R` and the lag is at least `forecast.MIN_LAG` (demand in the
  same week is not known ahead), kept when it lowers the AICc (`forecast.fit_harmonics`);
  `used` says whether the model shown has it. The backtest chooses the lag on the weeks
  before its first origin, like the period.
- Model or naive: the model is shown when its backtest beats seasonal naive
  (`backtest.Backtest.beats_naive`), otherwise the seasonal-naive forecast, and the block
  says which (`model`).
- Headcount: memberships with future dates change the number of members; the expected
  load (and its interval) is scaled by members now / members that week: the same work
  shared by more (or fewer) people.
- Committed work: items not yet started (todo), assigned to a member and in a sprint,
  are expected to be worked over the next `SPRINT_WEEKS` weeks, each for the team's
  median active time; the load they alone make is a floor under the expected load of
  those weeks (the model already expects the team's usual work; only committed work
  beyond it raises the forecast).
- p_flood / p_drought: the chance the week's load reaches the team's flood threshold
  (flood_factor x baseline) or falls to its drought threshold, the baseline being the
  median weekly load of the history (`load.states`), the error taken as Gaussian.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics import backtest as bt
from metrics import forecast as fc
from metrics.coupling import coupling, lagged_r, weekly_demand
from metrics.facts import Facts
from metrics.load import org_load, states, team_load
from metrics.parts import Basis
from metrics.samples import ALL_TEAMS, item_samples
from metrics.stats import plain
from metrics.support import support_requests
from metrics.weeks import Window, monday

HISTORY_WEEKS = 104
DEFAULT_WEEKS = 12
MIN_R = 0.3
OWN_PERIOD_WEEKS = 52
SPRINT_WEEKS = 2
DEFAULT_ACTIVE_HOURS = 24.0  # a committed item's active time when the team has done none
WEEK_HOURS = 168.0


def history_window(facts: Facts | Basis, history_weeks: int = HISTORY_WEEKS) -> Window:
    """The complete weeks before the week `now` falls in (org timezone)."""
    today = facts.now.tz_convert(facts.timezone).date()
    this_monday = monday(today)
    return Window(
        this_monday - dt.timedelta(weeks=history_weeks),
        this_monday - dt.timedelta(days=1),
        facts.timezone,
    )


def future_weeks(facts: Facts | Basis, weeks: int) -> list[dt.date]:
    today = facts.now.tz_convert(facts.timezone).date()
    return [monday(today) + dt.timedelta(weeks=k) for k in range(weeks)]


def future_members(memberships: pd.DataFrame, team: str, weeks: list[dt.date]) -> np.ndarray:
    """Average members of `team` in each week (days of membership / 7), from the
    memberships' dates (inclusive; no end = still a member)."""
    rows = memberships[memberships["team"] == team]
    out = np.zeros(len(weeks))
    for start, end in zip(rows["valid_from"], rows["valid_to"], strict=True):
        first = pd.Timestamp(start).date()
        last = dt.date.max if pd.isna(end) else pd.Timestamp(end).date()
        for k, week in enumerate(weeks):
            lo, hi = max(first, week), min(last, week + dt.timedelta(days=6))
            out[k] += max((hi - lo).days + 1, 0) / 7
    return out


def committed_items(facts: Facts, members: list[str]) -> int:
    """Items not yet started and not done, assigned to one of `members`, in a sprint."""
    raw = facts.frames.items
    if "sprint" not in raw.columns or not members:
        return 0
    in_sprint = set(raw.loc[raw["sprint"].notna(), "item_id"])
    items = facts.items
    todo = (~items["done"]) & items["started_at"].isna() & items["assignee"].isin(members)
    return int(items.loc[todo, "item_id"].isin(in_sprint).sum())


def _median_active_hours(samples: pd.DataFrame, team: str) -> float:
    hours = samples.loc[samples["team"] == team, "active_hours"].dropna()
    return float(hours.median()) if len(hours) else DEFAULT_ACTIVE_HOURS


def _serving(pairs: pd.DataFrame, team: str) -> dict[str, Any] | None:
    rows = pairs[
        (pairs["serving_team"] == team) & (pairs["requesting_team"] != team) & pairs["r"].notna()
    ]
    if rows.empty:
        return None
    best = rows.sort_values(["r", "n_requests"], ascending=False).iloc[0]
    return {
        "requesting_team": best["requesting_team"],
        "lag_weeks": int(best["best_lag_weeks"]),
        "r": float(best["r"]),
        "used": bool(best["r"] >= MIN_R and best["best_lag_weeks"] >= fc.MIN_LAG),
    }


def _lead(demand: np.ndarray, load: np.ndarray) -> int | None:
    """The lag (weeks) at which `demand` best leads `load` (`coupling.lagged_r`; ties: the
    shortest), when it is a regressor: r >= `MIN_R` and lag >= `forecast.MIN_LAG`."""
    known = [(r, k) for k, r in enumerate(lagged_r(demand, load)) if r is not None]
    if not known:
        return None
    r, lag = max(known, key=lambda rk: (rk[0], -rk[1]))
    return lag if r >= MIN_R and lag >= fc.MIN_LAG else None


def _series(frame: pd.DataFrame, window: Window, key: str, value: str) -> np.ndarray:
    out = np.full(window.n_weeks, np.nan)
    where = {w: i for i, w in enumerate(window.weeks)}
    rows = frame[frame["team"] == key]
    out[[where[w] for w in rows["week"]]] = rows[value].to_numpy(np.float64)
    return out


@dataclass(frozen=True)
class ForecastInputs:
    """What the forecast reads: from the facts of the history (`of`), or from the weekly
    rollups and the open items (`metrics.rollup.forecast`), the same figures.

    `loads`: `load.team_load` rows of every team and the org's (`ALL_TEAMS`) over the
    history window; `requests`: `support.support_requests` rows; `items`:
    `samples.item_samples` rows (the team's active time per item); `open`: facts holding
    at least every item open at `now` (work committed in sprints)."""

    basis: Basis
    loads: pd.DataFrame
    requests: pd.DataFrame
    items: pd.DataFrame
    memberships: pd.DataFrame
    open: Facts

    @classmethod
    def of(cls, facts: Facts, history_weeks: int = HISTORY_WEEKS) -> ForecastInputs:
        window = history_window(facts, history_weeks)
        basis = Basis.of(facts)
        loads = pd.concat(
            [
                team_load(facts, window, basis.every_team()),
                org_load(facts, window, facts.teams(None), ALL_TEAMS),
            ],
            ignore_index=True,
        )
        requests, items = support_requests(facts), item_samples(facts)
        return cls(basis, loads, requests, items, facts.frames.memberships, facts)


def forecast_block(
    facts: Facts,
    teams: list[str] | None,
    weeks: int = DEFAULT_WEEKS,
    *,
    history_weeks: int = HISTORY_WEEKS,
    origins: int = bt.ORIGINS,
) -> dict[str, Any]:
    """The `forecast` block: per team, `weeks` weeks ahead (see the module docstring)."""
    inputs = ForecastInputs.of(facts, history_weeks)
    return forecast_from(inputs, teams, weeks, history_weeks=history_weeks, origins=origins)


def forecast_from(
    inputs: ForecastInputs,
    teams: list[str] | None,
    weeks: int = DEFAULT_WEEKS,
    *,
    history_weeks: int = HISTORY_WEEKS,
    origins: int = bt.ORIGINS,
) -> dict[str, Any]:
    """`forecast_block` of given inputs."""
    window = history_window(inputs.basis, history_weeks)
    selected = inputs.basis.teams(teams)
    loads = inputs.loads[inputs.loads["team"].isin(selected)]
    org = _series(inputs.loads, window, ALL_TEAMS, "load")
    pairs = coupling(inputs.requests, loads, window)
    demand = weekly_demand(inputs.requests, window)
    ahead = future_weeks(inputs.basis, weeks)
    out = [
        _team(inputs, team, window, loads, org, pairs, demand, ahead, origins) for team in selected
    ]
    return plain(
        {
            "history_from": window.first_day.isoformat(),
            "history_to": window.last_day.isoformat(),
            "weeks": weeks,
            "teams": out,
        }
    )


def _team(
    inputs: ForecastInputs,
    team: str,
    window: Window,
    loads: pd.DataFrame,
    org: np.ndarray,
    pairs: pd.DataFrame,
    demand: pd.DataFrame,
    ahead: list[dt.date],
    origins: int,
) -> dict[str, Any]:
    y_all = _series(loads, window, team, "load")
    members_all = _series(loads, window, team, "members")
    known = np.flatnonzero(~np.isnan(y_all))
    start = int(known[0]) if len(known) else window.n_weeks
    y = y_all[start:]
    serving = _serving(pairs, team)
    requests = None
    if serving:
        rows = demand[
            (demand["serving_team"] == team)
            & (demand["requesting_team"] == serving["requesting_team"])
        ]
        requests = np.zeros(window.n_weeks)
        requests[rows["week"].to_numpy()] = rows["requests"].to_numpy()
        requests = requests[start:]
    series = requests if serving and serving["used"] else None
    lag = serving["lag_weeks"] if series is not None and serving else 0
    steps = len(ahead)
    first = bt.first_origin(len(y), origins)
    # The backtest's regressor: the lead as the weeks before its first origin show it.
    test_lag = None if requests is None else _lead(requests[:first], y[:first])
    test_series = None if test_lag is None else requests
    own = np.sum(~np.isnan(y)) >= OWN_PERIOD_WEEKS
    source = "team" if own else "org"

    def period_upto(end: int) -> int | None:
        return fc.find_period(y[:end] if own else org[: start + end])

    baseline, _ = states(y, inputs.basis.config.load)
    settings = inputs.basis.config.load
    flood_at = (
        None if baseline is None else (settings.flood_factor * baseline if baseline > 0 else 1e-9)
    )
    drought_at = None if not baseline else settings.drought_factor * baseline
    future = future_members(inputs.memberships, team, ahead)
    harmonics = 0  # of the period, in the model shown (none when naive is shown)
    if np.sum(~np.isnan(y)) < fc.MIN_WEEKS or not future.any():
        # too little history to fit, or nobody to forecast for (a dissolved team)
        test = bt.empty(steps)
        period = period_upto(len(y))
        chosen, model = fc.seasonal_naive(y, steps, period), fc.NAIVE
        series = None
    else:
        period = period_upto(len(y))
        test = bt.backtest(
            y, test_series, test_lag or 0, period_upto(first), origins=origins, horizons=steps
        )
        naive = fc.seasonal_naive(y, steps, period)
        if test.beats_naive:
            fitted = fc.fit_harmonics(y, period, series, lag)
            harmonics = fitted.harmonics
            series = series if fitted.demand else None
            exog = fc.design(len(y) + steps, period, harmonics, series, lag, len(y))
            raw = fc.predict(fitted.result, steps, None if exog is None else exog[len(y) :])
            chosen = fc.Prediction(raw.mean, raw.sd * test.final_scale)  # calibrated
            model = fc.model_name(
                period,
                harmonics,
                serving["requesting_team"] if series is not None and serving else None,
                lag,
                fitted.level,
            )
        else:
            chosen, model = naive, fc.NAIVE
            series = None
    if serving:
        # `used`: the demand is a regressor of the model shown
        serving["used"] = series is not None

    now_members = _last(members_all)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = (
            np.where(future > 0, now_members / future, np.nan) if now_members else np.ones(steps)
        )
    mean = chosen.mean * scale
    sd = chosen.sd * scale
    committed = committed_items(inputs.open, _members_now(inputs, team))
    floor = np.zeros(steps)
    if committed and now_members:
        hours = committed * _median_active_hours(inputs.items, team)
        per_week = hours / SPRINT_WEEKS
        with np.errstate(divide="ignore", invalid="ignore"):
            floor[:SPRINT_WEEKS] = per_week / (future[:SPRINT_WEEKS] * WEEK_HOURS)
    mean = np.where(np.isnan(mean), mean, np.maximum(mean, np.nan_to_num(floor)))
    shown = fc.Prediction(np.maximum(mean, 0.0), sd)
    p_flood, p_drought = fc.flood_drought_odds(shown, flood_at, drought_at)
    lo80, hi80 = shown.interval(fc.Z80)
    lo95, hi95 = shown.interval(fc.Z95)
    rows = [
        {
            "week": week.isoformat(),
            "expected": _num(shown.mean[k]),
            "lower_80": _num(max(lo80[k], 0.0)),
            "upper_80": _num(hi80[k]),
            "lower_95": _num(max(lo95[k], 0.0)),
            "upper_95": _num(hi95[k]),
            "p_flood": _num(p_flood[k]),
            "p_drought": _num(p_drought[k]),
            "members": float(future[k]),
        }
        for k, week in enumerate(ahead)
    ]
    changes = [
        {"week": ahead[k].isoformat(), "members": float(future[k])}
        for k in range(steps)
        if abs(future[k] - (future[k - 1] if k else now_members or 0.0)) > 1e-9
    ]
    history = [
        {"week": window.weeks[start + k].isoformat(), "load": _num(v)} for k, v in enumerate(y)
    ]
    return {
        "team": team,
        "model": model,
        "baseline": baseline,
        "flood_threshold": None if baseline is None else settings.flood_factor * baseline,
        "drought_threshold": drought_at,
        "weeks": rows,
        "history": history,
        "drivers": {
            "period_weeks": period,
            "harmonics": harmonics,
            "period_found_in": source,
            "serving": serving,
            "members_now": now_members,
            "headcount_changes": changes,
            "committed_items": committed,
        },
        "backtest": {
            "origins": test.origins,
            "interval_scale": test.final_scale,
            "mase_mean": test.mase_mean,
            "beats_naive": test.beats_naive,
            "horizons": test.rows(),
        },
    }


def _num(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def _last(values: np.ndarray) -> float | None:
    known = values[~np.isnan(values) & (values > 0)]
    return float(known[-1]) if len(known) else None


def _members_now(inputs: ForecastInputs, team: str) -> list[str]:
    today = inputs.basis.now.tz_convert(inputs.basis.timezone).date()
    rows = inputs.memberships
    rows = rows[rows["team"] == team]
    current = [
        person
        for person, start, end in zip(
            rows["person"], rows["valid_from"], rows["valid_to"], strict=True
        )
        if pd.Timestamp(start).date() <= today
        and (pd.isna(end) or pd.Timestamp(end).date() >= today)
    ]
    return sorted(set(current))
