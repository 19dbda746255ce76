"""Metrics for a window, straight from the database: the one path the CLI, dashboard and report share.

It decides what to read (the window, plus the periods around each reorg that the
before/after comparison needs), reads it through `db.queries`, and hands it to
`metrics.summary`; no figure is computed anywhere else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from db import queries
from metrics import compare
from metrics.facts import Facts
from metrics.frames import Frames
from metrics.summary import report_from_facts, window_of
from teamtide.config import Config


def read_span(
    config: Config, start: dt.date, end: dt.date, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds of what a report over `start`..`end` must read, reorg periods included."""
    window = window_of(start, end, config)
    lo = dt.datetime.combine(window.first_day, dt.time.min, config.org.tz)
    hi = dt.datetime.combine(window.last_day + dt.timedelta(days=1), dt.time.min, config.org.tz)
    margin = dt.timedelta(days=compare.DEFAULT_DAYS + 7)
    for reorg in config.org.reorgs:
        moment = dt.datetime.combine(reorg.date, dt.time.min, config.org.tz)
        lo, hi = min(lo, moment - margin), max(hi, moment + margin)
    hi = max(lo, min(hi, now))  # nothing after `now` exists yet
    return lo.astimezone(dt.UTC), hi.astimezone(dt.UTC)


def facts(
    conn: Connection, config: Config, start: dt.date, end: dt.date, now: dt.datetime
) -> Facts:
    lo, hi = read_span(config, start, end, now)
    return Facts.build(Frames(**queries.metric_frames(conn, lo, hi)), config, now)


def report(
    conn: Connection,
    config: Config,
    start: dt.date,
    end: dt.date,
    teams: list[str] | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The `teamtide metrics` JSON for a window and teams (None: every team of the org file)."""
    return report_from_facts(facts(conn, config, start, end, now), start, end, teams)
