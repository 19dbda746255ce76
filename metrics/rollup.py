"""Rollups: the metrics' weekly parts and samples (`metrics.parts`) kept in the database.

`refresh` runs after each sync of Jira or GitHub (the scheduler's sync jobs and
`teamtide sync`, through `refresh_leased`). It recomputes only what can have changed
since the last refresh, from the earliest of:
- the last refresh's `as_of` (open work and the current week run on with time);
- the creation of any item or pull request a sync stored since then (`stored_at`; its
  whole life is recomputed: a new label can recategorise every day it was worked on);
- the first day on which the memberships differ from those last used (an org-file edit).
Those weeks are replaced, and the samples of every item and pull request alive in them.
Anything else the org file or the sources' vocabulary changes (rules, identities,
statuses, timezone) changes every figure: the digest differs and the refresh is full.
One transaction: a reader sees the whole refresh or the one before.

Readers (`summary`, `reorg_comparisons`, `team_loads`) use the rollups when they
describe the current org file, and say so with None otherwise (the caller then computes
from the facts). Figures are as of the refresh's `as_of`: the last sync, as the
dashboard shows them. The assembled report is `summary.summary_from_parts`, the same
code the full computation uses; `tests/metrics/test_rollup.py` holds the two to
identical JSON.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine

from config.schema import Config
from db import locks, rollups
from metrics import compare, reading
from metrics.forecast_teams import (
    DEFAULT_WEEKS,
    HISTORY_WEEKS,
    ForecastInputs,
    forecast_from,
    history_window,
)
from metrics.parts import AllocationSums, Basis, Samples, WeekParts, for_window, week_parts
from metrics.summary import reorgs_from_parts, summary_from_parts
from metrics.weeks import monday, widen

# A sync's page committed just after a refresh began may carry a `stored_at` a little
# before it (the page's own transaction began earlier): such rows count as changed again.
OVERLAP = dt.timedelta(minutes=10)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LEASE_NAME = "rollups"
LEASE_WAIT = 600.0  # seconds: another source's refresh takes far less


@dataclass(frozen=True)
class Refresh:
    """What one refresh did: for the scheduler's job log and `teamtide sync`'s stderr."""

    version: int
    full: bool
    from_week: dt.date | None
    weeks: int
    rows: int
    seconds: float
    reason: str

    def line(self) -> str:
        if self.from_week is None:
            return f"rollups up to date (version {self.version}): {self.reason}"
        kind = "full refresh" if self.full else "refresh"
        return (
            f"rollups version {self.version}: {kind} of {self.weeks} week(s) from "
            f"{self.from_week} ({self.reason}), {self.rows:,} rows in {self.seconds:.1f} s"
        )


def digest(config: Config, vocabulary: list[str]) -> str:
    """What every figure depends on besides the facts and memberships: the org file's rules,
    teams, people's identities and timezone, and the sources' identities and statuses."""
    body = config.model_dump(
        mode="json",
        include={"org", "workflow", "categories", "unplanned", "support", "load"},
    )
    body["org"].pop("reorgs", None)  # read at report time, not rolled up
    for person in body["org"].get("people", []):
        person.pop("memberships", None)  # compared day by day (`_membership_change`)
    text = json.dumps([body, vocabulary], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def refresh(conn: Connection, config: Config, now: dt.datetime, *, full: bool = False) -> Refresh:
    """Bring the rollups up to `now` (timezone-aware) in the caller's transaction."""
    began = time.perf_counter()
    old = rollups.state(conn)
    memberships, vocabulary = rollups.org_inputs(conn)
    current = digest(config, vocabulary)
    as_of = now.astimezone(dt.UTC)
    began_at = dt.datetime.now(dt.UTC)  # rows stored from here on are the next refresh's
    tz = config.org.tz
    if full or old is None or old.config_digest != current:
        reason = (
            "asked"
            if full
            else "first refresh"
            if old is None
            else "the org file's rules or the sources' vocabulary changed"
        )
        start, full = rollups.first_created(conn, EPOCH, as_of) or as_of, True
    else:
        starts, why = [_aware(old.as_of)], ["time"]
        if old.watermark is not None:
            changed = rollups.changed_since(conn, _aware(old.watermark) - OVERLAP)
            if changed is not None:
                starts.append(changed)
                why.append("updated items")
        moved = _membership_change(old.memberships, memberships)
        if moved is not None:
            starts.append(dt.datetime.combine(moved, dt.time.min, tz))
            why.append("memberships")
        start, reason = min(starts), " + ".join(why)
        if as_of <= _aware(old.as_of) and len(why) == 1:
            return Refresh(old.version, False, None, 0, 0, time.perf_counter() - began, "no change")
    first_week = monday(min(start, as_of).astimezone(tz).date())
    window = widen(first_week, as_of.astimezone(tz).date(), config.org.timezone)
    lo = dt.datetime.combine(first_week, dt.time.min, tz).astimezone(dt.UTC)
    facts = reading.facts_between(conn, config, (lo, max(lo, as_of)), as_of)
    parts = week_parts(facts, window)
    samples = Samples.of(facts)
    if full:
        rollups.clear(conn)
    rows = rollups.replace_weeks(conn, first_week, vars(parts))
    rows += rollups.replace_samples(
        conn, facts.frames.items["item_id"], facts.frames.pulls["pr_id"], vars(samples)
    )
    version = (old.version if old else 0) + 1
    kept = first_week if full or old is None else min(old.first_week or first_week, first_week)
    rollups.save_state(
        conn,
        rollups.State(
            version=version,
            as_of=as_of,
            watermark=began_at,
            config_digest=current,
            memberships=memberships,
            first_week=kept,
            refreshed_at=dt.datetime.now(dt.UTC),
            detail=None,
        ),
    )
    return Refresh(
        version, full, first_week, window.n_weeks, rows, time.perf_counter() - began, reason
    )


def refresh_leased(
    engine: Engine, config: Config, now: dt.datetime, *, wait: float = LEASE_WAIT
) -> Refresh | None:
    """`refresh` in its own transaction under the `rollups` lease, so that the refreshes
    after two sources' syncs run one after the other; None if the lease stayed taken."""
    with locks.hold(engine, LEASE_NAME, locks.JOB_LEASE, wait=wait) as held:
        if held is None:
            return None
        with engine.begin() as conn:
            return refresh(conn, config, now)


def current(conn: Connection, config: Config) -> rollups.State | None:
    """The rollups' state when they describe this org file, these memberships and every
    row stored before their refresh ended; else None (a sync or an edit since: the
    figures are then computed from the facts until the next refresh)."""
    found = rollups.state(conn)
    if found is None:
        return None
    memberships, vocabulary = rollups.org_inputs(conn)
    if found.config_digest != digest(config, vocabulary) or found.memberships != memberships:
        return None
    if rollups.stored_after(conn, _aware(found.refreshed_at)):
        return None
    return found


def as_of(state: rollups.State) -> dt.datetime:
    return _aware(state.as_of)


def summary(
    conn: Connection,
    config: Config,
    start: dt.date,
    end: dt.date,
    teams: list[str] | None,
    *,
    reorgs: bool = True,
) -> dict[str, Any] | None:
    """`teamtide metrics`' summary from the rollups, as of their `as_of` (None: the rollups
    do not describe this org file yet; compute from the facts)."""
    found = current(conn, config)
    if found is None:
        return None
    now = as_of(found)
    window = widen(start, end, config.org.timezone)
    spans = [reading.window_span(config, start, end, now)]
    if reorgs:
        spans += [span for span in [reading.reorg_span(config, now)] if span is not None]
    basis = _basis(conn, config, found, reading.read_span(config, start, end, now))
    first, last = window.weeks[0], window.weeks[-1]
    parts = WeekParts(**rollups.read_weeks(conn, first, last, allocation=False))
    by_week, by_person = rollups.read_allocation_sums(conn, first, last)
    index = {week: i for i, week in enumerate(window.weeks)}
    sums = AllocationSums(by_week.assign(week=by_week["week"].map(index)), by_person).typed()
    samples = _samples(conn, spans)
    return summary_from_parts(basis, parts, samples, window, teams, reorgs=reorgs, sums=sums)


def reorg_comparisons(
    conn: Connection, config: Config, teams: list[str] | None
) -> list[dict[str, Any]] | None:
    """`summary.reorg_comparisons` from the rollups (None: not usable, as `summary`)."""
    found = current(conn, config)
    if found is None:
        return None
    span = reading.reorg_span(config, as_of(found))
    if span is None:
        return []
    basis = _basis(conn, config, found, span)
    return reorgs_from_parts(basis, _samples(conn, [span]), teams, compare.DEFAULT_DAYS)


def forecast(
    conn: Connection,
    config: Config,
    teams: list[str] | None,
    weeks: int = DEFAULT_WEEKS,
) -> dict[str, Any] | None:
    """`reading.forecast` from the rollups (loads, requests, items over the history) and
    the items open now (committed work), as of the rollups' `as_of`; None: not usable."""
    found = current(conn, config)
    if found is None:
        return None
    now = as_of(found)
    open_now = reading.facts_between(conn, config, (now, now), now)
    basis = Basis(
        config,
        open_now.now,
        tuple(sorted({line.split("|")[1] for line in found.memberships})),
        None,
    )
    window = history_window(basis, HISTORY_WEEKS)
    kept = WeekParts(
        **rollups.read_weeks(conn, window.weeks[0], window.weeks[-1], allocation=False)
    )
    loads = for_window(kept, window, basis.every_team()).loads
    samples = _samples(conn, [reading.forecast_span(config, now)])
    inputs = ForecastInputs(
        basis, loads, samples.requests, samples.items, open_now.frames.memberships, open_now
    )
    return forecast_from(inputs, teams, weeks)


def _basis(
    conn: Connection, config: Config, found: rollups.State, span: tuple[dt.datetime, dt.datetime]
) -> Basis:
    teams = sorted({line.split("|")[1] for line in found.memberships})
    start = rollups.first_created(conn, *span)
    return Basis(
        config,
        pd.Timestamp(as_of(found)).tz_convert("UTC").as_unit("ns"),
        tuple(teams),
        pd.Timestamp(start) if start is not None else None,
    )


def _samples(conn: Connection, spans: list[tuple[dt.datetime, dt.datetime]]) -> Samples:
    return Samples(**rollups.read_samples(conn, spans)).canonical()


def _membership_change(old: list[str], new: list[str]) -> dt.date | None:
    """The first day on which someone's teams differ between the memberships `old` and
    `new` ("person|team|from|to", `to` inclusive), None when they never do."""
    changed = set(old) ^ set(new)
    people = {line.split("|")[0] for line in changed}
    first: dt.date | None = None
    for person in people:
        rows = [_interval(line) for line in old if line.split("|")[0] == person]
        rows_new = [_interval(line) for line in new if line.split("|")[0] == person]
        bounds = sorted({b for _, f, t in rows + rows_new for b in (f, t)} - {None})
        for day in bounds:
            if _teams_on(rows, day) != _teams_on(rows_new, day):
                first = day if first is None else min(first, day)
                break
    return first


def _interval(line: str) -> tuple[str, dt.date, dt.date | None]:
    """(team, first day, first day after) of a membership line."""
    _, team, start, end = line.split("|")
    after = None if end in ("None", "") else dt.date.fromisoformat(end) + dt.timedelta(days=1)
    return team, dt.date.fromisoformat(start), after


def _teams_on(rows: list[tuple[str, dt.date, dt.date | None]], day: dt.date) -> set[str]:
    return {team for team, start, after in rows if start <= day and (after is None or day < after)}


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
