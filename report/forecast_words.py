"""The load forecast in words: its drivers, its model, and the report's "coming weeks" line per team."""

from __future__ import annotations

import datetime as dt
from typing import Any

LIKELY = 0.5  # a week is "likely" flood (or drought) from this probability on
NAIVE = "seasonal naive"
NEAR = 4  # the horizons the accuracy headlines average


def near_accuracy(team: dict[str, Any]) -> tuple[float | None, float | None]:
    """MASE and 80% coverage averaged over horizons 1..NEAR (None where nothing was compared)."""
    rows = [h for h in team["backtest"]["horizons"][:NEAR] if h["mase"] is not None]
    if not rows:
        return None, None
    return (
        sum(h["mase"] for h in rows) / len(rows),
        sum(h["coverage_80"] for h in rows) / len(rows),
    )


def forecast_model(team: dict[str, Any]) -> str:
    if team["model"] == NAIVE:
        tested = team["backtest"]["mase_mean"] is not None
        return (
            "seasonal naive (the model does not beat it)"
            if tested
            else "seasonal naive (too little history to test a model)"
        )
    return "state-space model"


def _serving(team: dict[str, Any]) -> str | None:
    serving = team["drivers"]["serving"]
    if not serving or not serving["used"]:
        return None
    lag = serving["lag_weeks"]
    when = "in the same week" if lag == 0 else f"{lag} week{'s' * (lag != 1)} earlier"
    return f"{serving['requesting_team']} demand {when} (r = {serving['r']:.2f})"


def forecast_drivers(team: dict[str, Any]) -> str:
    """What the forecast rests on, in one line: cycle, serving relationship, headcount, commitments."""
    drivers = team["drivers"]
    parts = []
    period = drivers["period_weeks"]
    if period:
        where = "its own load" if drivers["period_found_in"] == "team" else "the org's load"
        parts.append(f"a cycle of {period} weeks (found in {where})")
    else:
        parts.append("no regular cycle found")
    serving = _serving(team)
    if serving:
        parts.append(f"support requests: {serving}")
    for change in drivers["headcount_changes"]:
        day = dt.date.fromisoformat(change["week"])
        parts.append(f"{change['members']:.3g} members from {day:%d %b}")
    if drivers["committed_items"]:
        parts.append(f"{drivers['committed_items']} items committed in sprints")
    return "Drivers: " + "; ".join(parts) + "."


def _runs(weeks: list[dict[str, Any]], key: str) -> list[tuple[int, int, float]]:
    """(first, last, highest p) of each run of consecutive weeks with p >= LIKELY."""
    runs: list[tuple[int, int, float]] = []
    for k, week in enumerate(weeks):
        p = week[key]
        if p is None or p < LIKELY:
            continue
        if runs and runs[-1][1] == k - 1:
            first, _, top = runs[-1]
            runs[-1] = (first, k, max(top, p))
        else:
            runs.append((k, k, p))
    return runs


def _iso_weeks(weeks: list[dict[str, Any]], first: int, last: int) -> str:
    a = dt.date.fromisoformat(weeks[first]["week"]).isocalendar().week
    b = dt.date.fromisoformat(weeks[last]["week"]).isocalendar().week
    return f"week {a}" if first == last else f"weeks {a} to {b}"


def coming_weeks(team: dict[str, Any]) -> str:
    """One team's line for the report, e.g. "Infra: likely flood in weeks 50 to 52, p = 0.7,
    with Research demand 3 weeks earlier (r = 0.61)." Claims only what the backtest allows:
    a naive or untested forecast says so, and the serving relationship is named as a
    driver only when the model (not naive) uses it."""
    name, weeks = team["team"], team["weeks"]
    if all(w["expected"] is None for w in weeks):
        return f"{name}: no members in the coming weeks."
    claims = []
    for key, state in (("p_flood", "flood"), ("p_drought", "drought")):
        for first, last, p in _runs(weeks, key)[:1]:
            claims.append(f"likely {state} in {_iso_weeks(weeks, first, last)}, p = {p:.1f}")
    if claims:
        text = f"{name}: " + "; ".join(claims)
    else:
        text = f"{name}: no flood or drought likely in the next {len(weeks)} weeks"
    serving = _serving(team)
    naive = team["model"] == NAIVE
    if claims and serving and not naive:
        text += f", driven by {serving}"
    mase = team["backtest"]["mase_mean"]
    if naive:
        text += (
            " (seasonal-naive forecast: the model does not beat it)"
            if mase is not None
            else " (seasonal-naive forecast: too little history to test a model)"
        )
    else:
        text += f" (backtest: error {mase:.2f} x naive's)"
    return text + "."
