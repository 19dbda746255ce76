"""What every part of one generation run shares: its setting, its calendar and its one stream of draws."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from sandbox.world.draws import Draws
from sandbox.world.settings import (
    DEMAND_AMPLITUDE,
    DEMAND_PERIOD_WEEKS,
    FUTURE_DAYS,
    ORG_TIMEZONE,
    Scale,
)
from sandbox.world.workdays import DAY, Calendar


@dataclass(frozen=True, slots=True)
class Context:
    """One generation run, passed to each part of the generator (people, plan, Jira, GitHub, cluster).

    Days are indices into `cal` (day 0: the Monday of the first generated week); moments
    are UTC epoch seconds. Every draw comes from `d` (and `d.rng` for whole arrays).
    """

    seed: int
    scale: Scale
    d: Draws
    cal: Calendar
    first_day: dt.date
    horizon: int  # days generated: the history plus FUTURE_DAYS past the clock
    weeks: int  # whole weeks the calendar covers
    clock: dt.datetime  # the servers' starting "now": the end date, 00:00 UTC
    clock_s: int
    end_s: int  # the last generated moment
    reorg_day: int
    demand_phase: float
    demand: np.ndarray  # per week: the data-science demand factor around 1

    @property
    def rng(self) -> np.random.Generator:
        return self.d.rng


def new_context(seed: int, scale: Scale, end: dt.date) -> Context:
    """The run's setting; it draws the reorg week and the demand cycle's phase, in that order."""
    rng = np.random.default_rng(seed)
    start = end - dt.timedelta(days=7 * scale.weeks)
    first_day = start - dt.timedelta(days=start.weekday())
    horizon = (end + dt.timedelta(days=FUTURE_DAYS) - first_day).days
    cal = Calendar(first_day, -(-horizon // 7) * 7, ZoneInfo(ORG_TIMEZONE))
    clock = dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC)
    clock_s = int(clock.timestamp())
    history_weeks = (end - first_day).days // 7
    reorg_day = 7 * (history_weeks // 2 + int(rng.integers(-1, 2)))
    weeks = cal.days // 7
    phase = float(rng.uniform(0, DEMAND_PERIOD_WEEKS))
    w = np.arange(weeks) + 0.5
    demand = 1 + DEMAND_AMPLITUDE * np.sin(2 * np.pi * (w + phase) / DEMAND_PERIOD_WEEKS)
    return Context(
        seed=seed,
        scale=scale,
        d=Draws(rng),
        cal=cal,
        first_day=first_day,
        horizon=horizon,
        weeks=weeks,
        clock=clock,
        clock_s=clock_s,
        end_s=clock_s + FUTURE_DAYS * DAY,
        reorg_day=reorg_day,
        demand_phase=phase,
        demand=demand,
    )
