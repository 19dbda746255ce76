"""Alert events between reports: a team entering a flood or drought, a forecast flood, a week of SLA breaches.

Each event has a key that stays the same while the situation lasts (the team, the kind,
and the week it is about), so the alert ledger sends it once:

- `flood` / `drought`: the last complete week's load is in that state and the week
  before was not (states over the forecast's history, `metrics.load.states`); the week
  is the one that entered it.
- `forecast-flood`: the forecast's p_flood reaches `flood_probability` in one of the next
  `within_weeks` weeks; the week is the first such week (the same forecast flood, seen
  again next hour, is the same event).
- `sla`: more than `sla_breach_rate` of the support requests the team serves that were
  created this week (at least `MIN_REQUESTS`) breached their resolution target, or are
  open past it at `now`; the week is this week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from config.schema import Alerts, Config, Load
from metrics.facts import Facts
from metrics.intervals import ns
from metrics.load import DROUGHT, FLOOD, states
from metrics.support import breaches, support_requests

MIN_REQUESTS = 3  # fewer requests in a week: a breach rate says little


@dataclass(frozen=True)
class Event:
    team: str
    kind: str  # flood | drought | forecast-flood | sla
    week: str  # ISO date of the Monday the event is about
    value: float | None  # the load, the flood probability, or the breach rate
    detail: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.team}|{self.kind}|{self.week}"


def load_events(team: dict[str, Any], settings: Load) -> list[Event]:
    """A `flood` or `drought` event when the last complete week entered that state."""
    history = team["history"]
    loads = np.array([np.nan if h["load"] is None else h["load"] for h in history], np.float64)
    if len(loads) < 2:
        return []
    _, state = states(loads, settings)
    last, before = state[-1], state[-2]
    if last in (FLOOD, DROUGHT) and before != last:
        return [Event(team["team"], str(last), history[-1]["week"], float(loads[-1]), {})]
    return []


def forecast_events(team: dict[str, Any], settings: Alerts) -> list[Event]:
    """A `forecast-flood` event at the first of the next weeks likely enough to flood."""
    for week in team["weeks"][: settings.within_weeks]:
        p = week["p_flood"]
        if p is not None and p >= settings.flood_probability:
            detail = {"model": team["model"], "mase_mean": team["backtest"]["mase_mean"]}
            return [Event(team["team"], "forecast-flood", week["week"], float(p), detail)]
    return []


def sla_events(
    requests: pd.DataFrame, team: str, monday: dt.date, start: pd.Timestamp, settings: Alerts
) -> list[Event]:
    """An `sla` event when this week's requests served by `team` breach more than the rate.

    `requests`: `support.breaches` output (judged at `now`); `start`: this week's first
    moment (UTC), `monday` its date.
    """
    if settings.sla_breach_rate is None or requests.empty:
        return []
    mine = requests[
        (requests["serving_team"] == team) & (ns(requests["created_at"]) >= start.value)
    ]
    mine = mine.drop_duplicates("item_id")
    if len(mine) < MIN_REQUESTS:
        return []
    rate = float(mine["resolution_breach"].sum() / len(mine))
    if rate <= settings.sla_breach_rate:
        return []
    detail = {"requests": len(mine), "breached": int(mine["resolution_breach"].sum())}
    return [Event(team, "sla", monday.isoformat(), rate, detail)]


def events(facts: Facts, block: dict[str, Any]) -> list[Event]:
    """Every event of the org file's teams as of `facts.now`; `block`: their forecast
    (`forecast_teams.forecast_block`). Teams with nobody in the coming weeks have none."""
    return events_of(facts.config, facts.now, support_requests(facts), block)


def events_of(
    config: Config, now: pd.Timestamp, requests: pd.DataFrame, block: dict[str, Any]
) -> list[Event]:
    """`events` from its parts, however read: `requests` (`support.support_requests`
    rows, at least those created in `now`'s week) and the forecast `block` as of `now`."""
    tz = config.org.timezone
    today = now.tz_convert(tz).date()
    monday = today - dt.timedelta(days=today.weekday())
    start = pd.Timestamp(dt.datetime.combine(monday, dt.time.min), tz=tz)
    requests = breaches(requests, now)
    found: list[Event] = []
    for team in block["teams"]:
        if all(w["expected"] is None for w in team["weeks"]):
            continue
        found += load_events(team, config.load)
        found += forecast_events(team, config.alerts)
        found += sla_events(requests, team["team"], monday, start.tz_convert("UTC"), config.alerts)
    return found
