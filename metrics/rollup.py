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

import dataclasses
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine

from config.schema import Config
from db import locks, queries, rollups
from metrics import compare, reading
from metrics.forecast_teams import (
    DEFAULT_WEEKS,
    HISTORY_WEEKS,
    ForecastInputs,
    forecast_from,
    history_window,
)
from metrics.parts import AllocationSums, Basis, Samples, WeekParts, for_window, week_parts
from metrics.stages import stage_of
from metrics.summary import reorgs_from_parts, summary_from_parts
from metrics.weeks import default_window, monday, previous_period, widen

# A sync's page committed just after a refresh began may carry a `stored_at` a little
# before it (stamped when its upsert ran, a moment before its commit): such rows count
# as changed again. A page's upsert-to-commit takes well under a second; the margin is
# kept short because every row of the sync before a refresh within it is recomputed
# again by the next (after a first sync of every row: the whole history twice).
OVERLAP = dt.timedelta(minutes=2)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LEASE_NAME = "rollups"
LEASE_WAIT = 600.0  # seconds: another source's refresh takes far less
RUN_GAP = dt.timedelta(weeks=4)
FORECAST, REORGS = "forecast", "reorgs"  # kept results' names (and `_summary_name`)


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
    kept_seconds: float | None = None  # `keep_results` after it

    def line(self) -> str:
        if self.from_week is None:
            return f"rollups up to date (version {self.version}): {self.reason}"
        kind = "full refresh" if self.full else "refresh"
        kept = (
            ""
            if self.kept_seconds is None
            else f"; the default view's figures kept in {self.kept_seconds:.1f} s"
        )
        return (
            f"rollups version {self.version}: {kind} of {self.weeks} week(s) from "
            f"{self.from_week} ({self.reason}), {self.rows:,} rows in {self.seconds:.1f} s"
            f"{kept}"
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
    earlier: set[dt.date] = set()  # weeks to recompute before the tail's
    resampled: Changed | None = None  # whose samples to replace (None: all read)
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
        changed = Changed(as_of, frozenset(), frozenset())
        if old.watermark is not None:
            earlier, changed = _touched(conn, config, _aware(old.watermark) - OVERLAP, as_of)
            if earlier:
                why.append("updated items")
        moved = _membership_change(old.memberships, memberships)
        if moved is not None:
            starts.append(dt.datetime.combine(moved, dt.time.min, tz))
            why.append("memberships")
        start, reason = min(starts), " + ".join(why)
        resampled = dataclasses.replace(changed, since=start)
        if as_of <= _aware(old.as_of) and len(why) == 1:
            return Refresh(old.version, False, None, 0, 0, time.perf_counter() - began, "no change")
    tail = monday(min(start, as_of).astimezone(tz).date())
    if full:
        rollups.clear(conn)
    weeks = rows = 0
    for first, last in _runs(earlier, tail):
        done = _replace(conn, config, as_of, first, last, resampled)
        weeks, rows = weeks + done[0], rows + done[1]
    version = (old.version if old else 0) + 1
    first_week = min([tail, *earlier])
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
    return Refresh(version, full, first_week, weeks, rows, time.perf_counter() - began, reason)


@dataclass(frozen=True)
class Changed:
    """What an incremental refresh replaces the samples of: the items and pull requests a
    sync changed (and those linking them), and whatever was still open at `since` (the
    last refresh's moment, or the first day memberships changed): a sample is an item's
    or a pull request's own figures, fixed once it is done unless it changes."""

    since: dt.datetime
    item_ids: frozenset[int]
    pr_ids: frozenset[int]

    def items(self, items: pd.DataFrame) -> pd.Series:
        return items["item_id"][self._keep(items, "item_id", "done_at", self.item_ids)]

    def pulls(self, pulls: pd.DataFrame) -> pd.Series:
        return pulls["pr_id"][self._keep(pulls, "pr_id", "closed_at", self.pr_ids)]

    def _keep(self, rows: pd.DataFrame, key: str, end: str, ids: frozenset[int]) -> pd.Series:
        since = pd.Timestamp(self.since)
        return rows[key].isin(ids) | rows[end].isna() | (rows[end] >= since)


def _replace(
    conn: Connection,
    config: Config,
    as_of: dt.datetime,
    first: dt.date,
    last: dt.date | None,
    resampled: Changed | None,
) -> tuple[int, int]:
    """Recompute the weeks `first`..`last` (None: up to `as_of`'s) and the samples of the
    things alive in them (`resampled`'s only, when given); returns (weeks, rows written)."""
    tz = config.org.tz
    end = as_of.astimezone(tz).date() if last is None else last + dt.timedelta(days=6)
    window = widen(first, max(first, end), config.org.timezone)
    lo = dt.datetime.combine(first, dt.time.min, tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tz).astimezone(dt.UTC)
    facts = reading.facts_between(conn, config, (lo, max(lo, min(hi, as_of))), as_of)
    parts = week_parts(facts, window)
    rows = rollups.replace_weeks(conn, first, last, vars(parts))
    items, pulls = facts.frames.items, facts.frames.pulls
    item_ids, pr_ids = items["item_id"], pulls["pr_id"]
    if resampled is not None:
        item_ids, pr_ids = resampled.items(items), resampled.pulls(pulls)
    samples = Samples.of(facts)
    kept = {
        "items": samples.items[samples.items["item_id"].isin(item_ids)],
        "pulls": samples.pulls[samples.pulls["pr_id"].isin(pr_ids)],
        "requests": samples.requests[samples.requests["item_id"].isin(item_ids)],
    }
    rows += rollups.replace_samples(conn, item_ids, pr_ids, kept)
    return window.n_weeks, rows


def _runs(weeks: set[dt.date], tail: dt.date) -> list[tuple[dt.date, dt.date | None]]:
    """The weeks to recompute as runs of Mondays (first, last): `weeks` before `tail`, then
    `tail` on (last None). Runs closer than `RUN_GAP` are read as one: each read of the
    facts costs a pass over the items alive in it, more than a few weeks' parts."""
    runs: list[tuple[dt.date, dt.date | None]] = []
    for week in sorted(w for w in weeks if w < tail):
        if runs and (week - runs[-1][1]) <= RUN_GAP:  # type: ignore[operator]
            runs[-1] = (runs[-1][0], week)
        else:
            runs.append((week, week))
    if runs and tail - runs[-1][1] <= RUN_GAP:  # type: ignore[operator]
        return [*runs[:-1], (runs[-1][0], None)]
    return [*runs, (tail, None)]


def _touched(
    conn: Connection, config: Config, since: dt.datetime, as_of: dt.datetime
) -> tuple[set[dt.date], Changed]:
    """The Mondays of every week a sync's changes since `since` can have changed: the weeks
    the changed items and pull requests were counted in (as the rollups hold them), and
    those their new versions can count in. An item counts only from when it first leaves
    its first status (from its creation when that status is already work) until it is
    done; a pull request while it is open, and its category follows its linked items', so
    the pull requests that link a changed item are changed too."""
    items, pulls = rollups.changed_things(conn, since)
    if items.empty and pulls.empty:
        return set(), Changed(as_of, frozenset(), frozenset())
    first = items["created_at"].min() if len(items) else pd.Timestamp(as_of)
    linking = rollups.pulls_linking(conn, items["key"], first.to_pydatetime())
    pulls = pd.concat([pulls, linking], ignore_index=True).drop_duplicates("pr_id")
    changed = Changed(
        as_of, frozenset(map(int, items["item_id"])), frozenset(map(int, pulls["pr_id"]))
    )
    weeks = rollups.counted_weeks(conn, items["item_id"], pulls["pr_id"])
    now = pd.Timestamp(as_of)
    moves = rollups.first_and_last_transitions(conn, items["item_id"])
    items = items.merge(moves, on="item_id", how="left")
    statuses = rollups.statuses(conn)
    first_status = items["from_status"].where(items["first_at"].notna(), items["status"])
    began = stage_of(first_status, items["source"], statuses, config) != "todo"
    ended = stage_of(items["status"], items["source"], statuses, config) == "done"
    starts = items["created_at"].where(began, items["first_at"])
    ends = pd.concat([items["done_at"], items["last_at"]], axis=1).max(axis=1).where(ended, now)
    spans = [*zip(starts, ends, strict=True)]
    spans += [*zip(pulls["created_at"], pulls["closed_at"].fillna(now), strict=True)]
    tz = config.org.tz
    for lo, hi in spans:
        if pd.isna(lo) or pd.isna(hi) or hi < lo:
            continue
        week = monday(lo.astimezone(tz).date())
        last = monday(min(hi, now).astimezone(tz).date())
        while week <= last:
            weeks.add(week)
            week += dt.timedelta(days=7)
    return weeks, changed


def refresh_leased(
    engine: Engine, config: Config, now: dt.datetime, *, wait: float = LEASE_WAIT
) -> Refresh | None:
    """`refresh` in its own transaction under the `rollups` lease, so that the refreshes
    after two sources' syncs run one after the other; None if the lease stayed taken."""
    with locks.hold(engine, LEASE_NAME, locks.JOB_LEASE, wait=wait) as held:
        if held is None:
            return None
        with engine.begin() as conn:
            done = refresh(conn, config, now)
        with engine.begin() as conn:
            seconds = keep_results(conn, config)
        return dataclasses.replace(done, kept_seconds=seconds)


def keep_results(conn: Connection, config: Config) -> float | None:
    """Compute what the dashboard's default view shows from the current rollups, and keep
    it with their version for every dashboard process to read: the summaries of the
    default window and of the period before it (every team, no reorgs), the reorg
    comparisons, and every team's load forecast. Each takes seconds on a large org, paid
    here once per refresh instead of by every process's first visitor. Returns the
    seconds it took; None when the rollups are not current or all was already kept."""
    began = time.perf_counter()
    found = current(conn, config)
    if found is None or rollups.result(conn, FORECAST, found.version) is not None:
        return None
    version = found.version
    for start, end in _default_windows(conn, config, found):
        body = summary(conn, config, start, end, None, reorgs=False)
        rollups.save_result(conn, _summary_name(start, end), version, _json(body))
    rollups.save_result(conn, REORGS, version, _json(reorg_comparisons(conn, config, None)))
    block = _forecast(conn, config, found, None, DEFAULT_WEEKS)
    rollups.save_result(conn, FORECAST, version, _json(block))  # last: it says all is kept
    return time.perf_counter() - began


def _default_windows(
    conn: Connection, config: Config, found: rollups.State
) -> list[tuple[dt.date, dt.date]]:
    """The dashboard's default window on the rollups' day, and the period before it."""
    span = queries.data_span(conn)
    days = (span[0].date(), span[1].date()) if span else None
    start, end = default_window(as_of(found).astimezone(config.org.tz).date(), days)
    return [(start, end), previous_period(start, end)]


def _summary_name(start: dt.date, end: dt.date) -> str:
    return f"summary {start} {end}"


def _json(body: Any) -> str:
    return json.dumps(body, sort_keys=True, allow_nan=False)


def _kept(conn: Connection, name: str, version: int) -> Any | None:
    text = rollups.result(conn, name, version)
    return None if text is None else json.loads(text)


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
    if teams is None and not reorgs:
        kept = _kept(conn, _summary_name(start, end), found.version)
        if kept is not None:
            return kept
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
    kept_reorgs = _kept(conn, REORGS, found.version) if reorgs and teams is None else None
    out = summary_from_parts(
        basis, parts, samples, window, teams, reorgs=reorgs and kept_reorgs is None, sums=sums
    )
    if kept_reorgs is not None:  # the same for every window: computed once per refresh
        out["reorgs"] = kept_reorgs
    return out


def reorg_comparisons(
    conn: Connection, config: Config, teams: list[str] | None
) -> list[dict[str, Any]] | None:
    """`summary.reorg_comparisons` from the rollups (None: not usable, as `summary`)."""
    found = current(conn, config)
    if found is None:
        return None
    kept = _kept(conn, REORGS, found.version) if teams is None else None
    if kept is not None:
        return kept
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
    the items open now (committed work), as of the rollups' `as_of`; None: not usable.
    Every team's at the default horizon is the one kept after the refresh, when kept."""
    found = current(conn, config)
    if found is None:
        return None
    kept = (
        _kept(conn, FORECAST, found.version) if teams is None and weeks == DEFAULT_WEEKS else None
    )
    if kept is not None:
        return kept
    return _forecast(conn, config, found, teams, weeks)


def alert_inputs(
    conn: Connection, config: Config
) -> tuple[pd.Timestamp, pd.DataFrame, dict[str, Any]] | None:
    """What the alerts read, from the rollups as of their `as_of` (the last sync): that
    moment, the support requests of its week (and any done since a week before it) and
    every team's forecast (the one kept after the refresh); None: not usable."""
    found = current(conn, config)
    if found is None:
        return None
    block = forecast(conn, config, None)
    if block is None:
        return None
    now = as_of(found)
    requests = _samples(conn, [(now - dt.timedelta(days=8), now)]).requests
    return pd.Timestamp(now).tz_convert("UTC"), requests, block


def _forecast(
    conn: Connection,
    config: Config,
    found: rollups.State,
    teams: list[str] | None,
    weeks: int,
) -> dict[str, Any]:
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
