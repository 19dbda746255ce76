"""Metrics for a window, straight from the database: the one path the CLI, dashboard and report share.

It decides what to read (the window, plus the periods around each reorg that the
before/after comparison needs), reads it through `db.queries`, and hands it to
`metrics.summary`; no figure is computed anywhere else. The dashboard reads the two
parts apart (`window_span`, `reorg_span`): the comparisons are the same for every
window, and most pages show none of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from config.schema import Config
from db import queries
from metrics import compare
from metrics.facts import Facts
from metrics.forecast_teams import DEFAULT_WEEKS, HISTORY_WEEKS, forecast_block
from metrics.frames import Frames
from metrics.summary import summary_from_facts, window_of

Span = tuple[dt.datetime, dt.datetime]


def _window_bounds(config: Config, start: dt.date, end: dt.date) -> Span:
    window = window_of(start, end, config)
    lo = dt.datetime.combine(window.first_day, dt.time.min, config.org.tz)
    hi = dt.datetime.combine(window.last_day + dt.timedelta(days=1), dt.time.min, config.org.tz)
    return lo, hi


def _reorg_bounds(config: Config) -> list[Span]:
    margin = dt.timedelta(days=compare.DEFAULT_DAYS + 7)
    moments = [dt.datetime.combine(r.date, dt.time.min, config.org.tz) for r in config.org.reorgs]
    return [(moment - margin, moment + margin) for moment in moments]


def _capped(lo: dt.datetime, hi: dt.datetime, now: dt.datetime) -> Span:
    hi = max(lo, min(hi, now))  # nothing after `now` exists yet
    return lo.astimezone(dt.UTC), hi.astimezone(dt.UTC)


def read_span(config: Config, start: dt.date, end: dt.date, now: dt.datetime) -> Span:
    """UTC bounds of what a report over `start`..`end` must read, reorg periods included."""
    lo, hi = _window_bounds(config, start, end)
    for before, after in _reorg_bounds(config):
        lo, hi = min(lo, before), max(hi, after)
    return _capped(lo, hi, now)


def window_span(config: Config, start: dt.date, end: dt.date, now: dt.datetime) -> Span:
    """UTC bounds of what a report over `start`..`end` reads for everything but the reorgs."""
    return _capped(*_window_bounds(config, start, end), now)


def reorg_span(config: Config, now: dt.datetime) -> Span | None:
    """UTC bounds of what the before/after comparisons of the org file's reorgs read (None:
    no reorg): the periods around each reorg, whatever the window. The rows a wider read
    adds (`read_span`'s) are items done before those periods or created after them."""
    bounds = _reorg_bounds(config)
    if not bounds:
        return None
    return _capped(min(lo for lo, _ in bounds), max(hi for _, hi in bounds), now)


def facts_between(
    conn: Connection, config: Config, span: Span, now: dt.datetime, *, work_only: bool = False
) -> Facts:
    """The facts of everything alive between the UTC bounds `span` (see `queries.metric_frames`;
    `work_only`: the work items alone, without comments, pull requests or reviews)."""
    frames = queries.metric_frames(conn, *span, work_only=work_only)
    return Facts.build(Frames(**frames), config, now)


def facts(
    conn: Connection, config: Config, start: dt.date, end: dt.date, now: dt.datetime
) -> Facts:
    return facts_between(conn, config, read_span(config, start, end, now), now)


def summary(
    conn: Connection,
    config: Config,
    start: dt.date,
    end: dt.date,
    teams: list[str] | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The `teamtide metrics` JSON for a window and teams (None: every team of the org file)."""
    return summary_from_facts(facts(conn, config, start, end, now), start, end, teams)


def forecast_span(config: Config, now: dt.datetime) -> Span:
    """UTC bounds of what the load forecast reads: its history weeks up to `now`."""
    today = now.astimezone(config.org.tz).date()
    start = today - dt.timedelta(weeks=HISTORY_WEEKS + 1)
    return _capped(*_window_bounds(config, start, today), now)


def forecast(
    conn: Connection,
    config: Config,
    teams: list[str] | None,
    now: dt.datetime,
    weeks: int = DEFAULT_WEEKS,
) -> dict[str, Any]:
    """The `forecast` block of `teamtide metrics --forecast-weeks` (metrics.forecast_teams)."""
    return forecast_block(forecast_facts(conn, config, now), teams, weeks)


def forecast_facts(conn: Connection, config: Config, now: dt.datetime) -> Facts:
    """What the forecast (and the alerts) read: work items and their history only (the load
    and the support demand need no pull requests, reviews or comments)."""
    frames = queries.metric_frames(conn, *forecast_span(config, now), work_only=True)
    return Facts.build(Frames(**frames), config, now)
