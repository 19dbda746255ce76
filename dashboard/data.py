"""Cached loading for the dashboard: every figure comes from `metrics/`, read through here.

The engine is a cached resource. Facts, reports and derived frames of a window are
cached as resources for a few minutes: they are large and read-only, so copying them
per rerun (as `st.cache_data` would) would cost more than the metrics; pages must not
mutate what they get. Pages never compute a metric.

When the database's weekly rollups describe the org file (`metrics.rollup.current`),
the figures are as of their refresh and read from them: summaries, the allocation
behind them, turnaround and support samples; only work in progress (open items) and the
forecast read the facts. Otherwise everything is computed from the facts, as of the last
sync. Either way `as_of` is in every cache key, and each refresh moves it.

Person-level data (names, per-person figures, item lists naming people) comes only
from the `people_*` loaders, which take the viewer's `people_teams` (part of the cache
key) and return rows of those teams alone, membership judged at the moment in
question. Everything else a page receives is team aggregates: `summary()` strips the
names the metrics summary carries.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from config.load import load_config
from config.schema import Config
from db import cluster_queries, queries
from db import rollups as rollup_store
from db.session import make_engine, session_scope
from metrics import drilldown, reading
from metrics.allocation import team_days as _team_days
from metrics.cluster import cluster_weekly
from metrics.facts import Facts
from metrics.frames import UTC_NS
from metrics.parts import Samples, WeekParts, for_window
from metrics.rules import item_rules
from metrics.samples import ALL_TEAMS, long_samples
from metrics.summary import reorg_comparisons, summary_from_facts
from metrics.support import breaches
from metrics.tables import summary_tables
from metrics.weeks import Window, previous_period, widen

TTL = dt.timedelta(minutes=5)  # how soon a new sync shows: span, as_of and health re-read
# Metric results are keyed by `as_of` (a new sync is a new key), so they can live longer;
# the wall display then never waits for a recomputation between syncs.
METRICS_TTL = dt.timedelta(hours=1)
ENTRIES = 8  # windows kept per loader: this period, the previous one, a few explored


def config_path() -> Path:
    return Path(os.environ.get("TEAMTIDE_CONFIG", "teamtide.yaml")).resolve()


@st.cache_resource(show_spinner=False)
def settings(path: str) -> Config:
    return load_config(Path(path))


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    # Read-only: the dashboard can never change what the collectors stored.
    return make_engine(url, readonly=True)


# --- who is looking ----------------------------------------------------------------------


@dataclass(frozen=True)
class StandInViewer:
    """Used until dashboard/access.py exists: team aggregates only, for everyone."""

    email: str | None = None
    role: str = "member"
    people_teams: frozenset[str] = frozenset()

    def sees_people(self, team: str) -> bool:
        return team in self.people_teams


def viewer(config: Config) -> Any:
    """The signed-in (or local) viewer, from dashboard/access.py once it exists."""
    try:
        from dashboard import access
    except ImportError:
        return StandInViewer()
    return access.current_viewer(config)


# --- the window and the clock -------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every page needs: the org file, the database, and the moment the data describes."""

    config: Config
    config_file: str
    today: dt.date

    @property
    def url(self) -> str:
        # a read-only PostgreSQL role when the org file names one: the database itself
        # then refuses the dashboard's writes, whatever the code does
        return self.config.database.read_url

    @property
    def teams(self) -> list[str]:
        return self.config.team_names()

    @property
    def reorgs(self) -> list[tuple[dt.date, str]]:
        return [(r.date, r.name) for r in self.config.org.reorgs]

    def window(self, start: dt.date, end: dt.date) -> Window:
        return widen(start, end, self.config.org.timezone)


def context() -> Context:
    path = str(config_path())
    cfg = settings(path)
    return Context(cfg, path, dt.datetime.now(cfg.org.tz).date())


@st.cache_data(ttl=TTL, show_spinner=False)
def span(url: str) -> tuple[dt.date, dt.date] | None:
    with engine(url).connect() as conn:
        found = queries.data_span(conn)
    return (found[0].date(), found[1].date()) if found else None


@st.cache_data(ttl=TTL, show_spinner=False)
def rollups(url: str, config_file: str) -> tuple[int, dt.datetime] | None:
    """The weekly rollups' version and `as_of` when they describe this org file (None: the
    figures are computed from the facts). Every metric's cache key holds `as_of`, which
    each refresh moves: a page is computed again only when its data changed."""
    from metrics import rollup

    with engine(url).connect() as conn:
        found = rollup.current(conn, settings(config_file))
    return (found.version, rollup.as_of(found)) if found else None


def as_of(url: str, config_file: str | None = None) -> dt.datetime:
    """The moment the stored data describes: the last rollup refresh (right after the last
    sync), else the last successful sync (never later than now).

    Figures are "as of" this instant, so an open item's age or an open request's wait is
    what it was when the sources were last read, not something stretched to today; and
    the caches stay warm between syncs.
    """
    found = rollups(url, config_file) if config_file else None
    return found[1] if found else _last_sync(url)


@st.cache_data(ttl=TTL, show_spinner=False)
def _last_sync(url: str) -> dt.datetime:
    """The last successful sync (never later than now), rounded down to the minute."""
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine(url)) as session:
        moments = [s.last_success for s in queries.sync_states(session) if s.last_success]
    if moments:
        latest = max(m if m.tzinfo else m.replace(tzinfo=dt.UTC) for m in moments)
        now = min(now, latest)
    return now.replace(second=0, microsecond=0)


def warm_default_view() -> dt.datetime:
    """Compute what the landing page (Overview) and Planning show by default, as a new
    server process starts and after each refresh of the rollups
    (`teamtide/dashboard_server.py`): the same calls with the same arguments as the pages
    make, so their next visitor finds the figures cached. Returns the `as_of` warmed."""
    from dashboard import filters

    ctx = context()
    chosen = filters.from_query({}, ctx.teams, ctx.today, span(ctx.url))
    now = as_of(ctx.url, ctx.config_file)
    window = (ctx.url, ctx.config_file, chosen.start, chosen.end, now)
    summary(*window, with_reorgs=False)
    previous_summary(*window, with_reorgs=False)
    tables(*window, with_reorgs=False)
    forecast(ctx.url, ctx.config_file, now)
    return now


def newest_as_of() -> dt.datetime:
    """`as_of` read now, past every cache: how the warm-up thread sees a new refresh."""
    ctx = context()
    rollups.clear()
    _last_sync.clear()
    return as_of(ctx.url, ctx.config_file)


# --- metrics --------------------------------------------------------------------------------


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner="Reading the database…")
def facts(url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime) -> Facts:
    """What the window's figures read, and those of the period of the same length before it
    (the Overview, the landing page, compares the two): everything but the reorgs'
    before/after periods, which `reorg_facts` reads once for every window.

    Facts read over a wider span give the same figures for a window, since the extra
    rows are items created after it or done before it.
    """
    cfg = settings(config_file)
    first, _ = previous_period(start, end)
    with engine(url).connect() as conn:
        return reading.facts_between(conn, cfg, reading.window_span(cfg, first, end, now), now)


@st.cache_resource(ttl=METRICS_TTL, max_entries=2, show_spinner="Reading the reorg periods…")
def reorg_facts(url: str, config_file: str, now: dt.datetime) -> Facts | None:
    """What the before/after comparisons of the org file's reorgs read (None: no reorg)."""
    cfg = settings(config_file)
    span = reading.reorg_span(cfg, now)
    if span is None:
        return None
    with engine(url).connect() as conn:
        return reading.facts_between(conn, cfg, span, now)


def _from_rollups(url: str, config_file: str, now: dt.datetime) -> bool:
    """Whether the figures as of `now` are those the rollups keep."""
    found = rollups(url, config_file)
    return found is not None and found[1] == now


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES * 2, show_spinner=False)
def _kept_weeks(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    things_of: str | None = None,
) -> WeekParts | None:
    """The window's weekly rollups (`metrics.parts.for_window`: weeks as indexes), with the
    things of the team `things_of`; None when the figures as of `now` are not kept."""
    if not _from_rollups(url, config_file, now):
        return None
    cfg = settings(config_file)
    window = widen(start, end, cfg.org.timezone)
    with engine(url).connect() as conn:
        kept = rollup_store.read_weeks(conn, window.weeks[0], window.weeks[-1], things_of=things_of)
    return for_window(WeekParts(**kept), window, cfg.team_names())


def _member_days(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime
) -> pd.DataFrame:
    """Each team's member-days by category (team, person, week index, category, weight):
    their weekly sums from the rollups, else `team_days` from the facts."""
    kept = _kept_weeks(url, config_file, start, end, now)
    if kept is None:
        return team_days(url, config_file, start, end, now)
    return kept.allocation[kept.allocation["team"] != ALL_TEAMS]


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES * 2, show_spinner=False)
def _samples(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime, kind: str
) -> pd.DataFrame:
    """One kind of the window's samples (`Samples`' items, pulls or requests; from the
    facts, of the period before it too): from the rollups when they are kept as of `now`,
    read for that kind alone (a page shows one of them)."""
    if not _from_rollups(url, config_file, now):
        return getattr(_fact_samples(url, config_file, start, end, now), kind)
    span = reading.window_span(settings(config_file), start, end, now)
    with engine(url).connect() as conn:
        return rollup_store.read_samples(conn, [span], kinds=[kind])[kind]


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner=False)
def _fact_samples(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime
) -> Samples:
    return Samples.of(facts(url, config_file, start, end, now))


def _texts(
    url: str, item_ids: pd.Series, pr_ids: pd.Series, *, keys_only: bool = False
) -> dict[str, pd.DataFrame]:
    """Item key, title, status, link by item_id and PR label and link by pr_id, read for
    these ids only (`keys_only`: the key and the label alone)."""
    wanted_items = sorted({int(i) for i in item_ids.dropna()})
    wanted_pulls = sorted({int(i) for i in pr_ids.dropna()})
    with engine(url).connect() as conn:
        found = queries.texts(conn, wanted_items, wanted_pulls, keys_only=keys_only)
    return {
        "items": found["items"].set_index("item_id"),
        "pulls": found["pulls"].set_index("pr_id"),
    }


@st.cache_resource(ttl=METRICS_TTL, max_entries=2, show_spinner="Comparing before and after…")
def reorgs(url: str, config_file: str, now: dt.datetime) -> list[dict[str, Any]]:
    """The report's `reorgs` entry: the same for every window, so computed once."""
    if _from_rollups(url, config_file, now):
        from metrics import rollup

        with engine(url).connect() as conn:
            kept = rollup.reorg_comparisons(conn, settings(config_file), None)
        if kept is not None:
            return kept
    found = reorg_facts(url, config_file, now)
    return [] if found is None else reorg_comparisons(found, None)


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner="Computing the metrics…")
def _full_summary(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime
) -> dict[str, Any]:
    # Every team at once: one computation serves every team filter of the window. The
    # reorgs are left out here (`reorgs()` has them for every window).
    kept = _rollup_summary(url, config_file, start, end, now)
    if kept is not None:
        return kept
    found = facts(url, config_file, start, end, now)
    return summary_from_facts(found, start, end, None, reorgs=False)


def _rollup_summary(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime
) -> dict[str, Any] | None:
    """The summary from the weekly rollups when they hold the figures as of `now`."""
    if not _from_rollups(url, config_file, now):
        return None
    from metrics import rollup

    with engine(url).connect() as conn:
        return rollup.summary(conn, settings(config_file), start, end, None, reorgs=False)


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES * 2, show_spinner=False)
def summary(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    with_reorgs: bool = True,
) -> dict[str, Any]:
    """The `teamtide metrics` summary of the window for every team, without person names.

    `with_reorgs=False` leaves `reorgs` empty, for a page that shows none of them: they
    read periods of their own (`reorg_facts`), which such a page need not wait for.
    """
    out = _strip_names(_full_summary(url, config_file, start, end, now))
    return _with_reorgs(out, with_reorgs, url, config_file, now)


def _with_reorgs(
    out: dict[str, Any], wanted: bool, url: str, config_file: str, now: dt.datetime
) -> dict[str, Any]:
    if wanted:
        out["reorgs"] = copy.deepcopy(reorgs(url, config_file, now))
    return out


def _strip_names(full: dict[str, Any]) -> dict[str, Any]:
    # The people (each with a weekly series) are most of the report: dropped before the
    # copy rather than copied and dropped.
    teams = [
        {**team, "people": [], "concentration": {**team["concentration"], "top1_person": None}}
        for team in full["teams"]
    ]
    return copy.deepcopy({**full, "teams": teams})


@st.cache_resource(
    ttl=METRICS_TTL, max_entries=ENTRIES * 2, show_spinner="Comparing with the period before…"
)
def previous_summary(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    with_reorgs: bool = True,
) -> dict[str, Any]:
    """`summary()` of the period of the same length just before `start`..`end`, computed from
    the facts read for `start`..`end` (they cover it, see `facts`)."""
    first, last = previous_period(start, end)
    kept = _rollup_summary(url, config_file, first, last, now)
    if kept is None:
        found = facts(url, config_file, start, end, now)
        kept = summary_from_facts(found, first, last, None, reorgs=False)
    out = _strip_names(kept)
    return _with_reorgs(out, with_reorgs, url, config_file, now)


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES * 2, show_spinner=False)
def tables(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    with_reorgs: bool = True,
) -> dict[str, pd.DataFrame]:
    """`metrics.tables.summary_tables` of the aggregate summary (person rows are empty;
    `with_reorgs=False`: so is the reorgs table)."""
    return summary_tables(summary(url, config_file, start, end, now, with_reorgs))


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner=False)
def team_days(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime
) -> pd.DataFrame:
    found = facts(url, config_file, start, end, now)
    return _team_days(found, widen(start, end, found.timezone))


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner=False)
def turnaround_samples(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime
) -> pd.DataFrame:
    """Items done in the window: team at done, cycle and lead hours (the pull requests'
    figures come from the summary: no page draws them one by one)."""
    items = _samples(url, config_file, start, end, now, "items")
    window = widen(start, end, settings(config_file).org.timezone)
    return items[_inside(items["at"], window)].reset_index(drop=True)


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES * 4, show_spinner=False)
def item_keys(url: str, item_ids: tuple[int, ...]) -> list[str | None]:
    """The keys of these items, in their order: a chart's hover text, read for the points
    it draws (`charts.drawn`) rather than for every item of a window."""
    keys = _texts(url, pd.Series(item_ids), pd.Series([], dtype=object), keys_only=True)
    return list(pd.Series(item_ids).map(keys["items"]["key"]).astype(object))


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES * 2, show_spinner=False)
def turnaround_trend(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime, grain: str
) -> pd.DataFrame:
    """p50/p85/p95 of cycle and lead time per team and week or month (columns: team,
    metric, period, n, p50, p85, p95)."""
    samples = turnaround_samples(url, config_file, start, end, now)
    tz = settings(config_file).org.timezone
    parts = []
    for (team, metric), rows in (
        samples.melt(["team", "at"], ["cycle_hours", "lead_hours"], "metric", "value")
        .dropna(subset=["team"])
        .groupby(["team", "metric"], sort=True)
    ):
        trend = drilldown.period_percentiles(rows, grain, tz)
        parts.append(trend.assign(team=team, metric=metric))
    if not parts:
        columns = ["team", "metric", *drilldown.PERIOD_PERCENTILES]
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return pd.concat(parts, ignore_index=True)


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES * 4, show_spinner=False)
def turnaround_lines(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    grain: str,
    teams: tuple[str, ...],
    metric: str,
) -> pd.DataFrame:
    """p50/p85/p95 per week or month of `metric` (cycle_hours or lead_hours) over the items
    of `teams` together (an item done by two of them counts once)."""
    samples = turnaround_samples(url, config_file, start, end, now)
    rows = samples[samples["team"].isin(teams)].drop_duplicates("item_id")
    rows = rows.rename(columns={metric: "value"})[["at", "value"]]
    return drilldown.period_percentiles(rows, grain, settings(config_file).org.timezone)


@st.cache_resource(ttl=METRICS_TTL, max_entries=2, show_spinner=False)
def _long_samples(url: str, config_file: str, now: dt.datetime) -> pd.DataFrame:
    """The work items' and support requests' turnaround samples of the reorgs' periods
    (`reading.reorg_span`; the Reorg page draws no pull request's): from the rollups
    when they are kept as of `now`, else from the facts (`reorg_facts`)."""
    cfg = settings(config_file)
    span = reading.reorg_span(cfg, now)
    if span is None:
        columns = {"team": object, "metric": object, "id": object, "at": UTC_NS, "value": float}
        return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    if _from_rollups(url, config_file, now):
        with engine(url).connect() as conn:
            kept = rollup_store.read_samples(conn, [span], kinds=["items", "requests"])
        items, requests = kept["items"], kept["requests"]
    else:
        found = Samples.of(reorg_facts(url, config_file, now))
        items, requests = found.items, found.requests
    columns = {"team": object, "pr_id": "int64", "at": UTC_NS, "first_review_hours": float}
    columns["merge_hours"] = float  # typed: an object column would make every column one
    no_pulls = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})
    samples = long_samples(items, no_pulls, requests)
    return samples.assign(at=pd.to_datetime(samples["at"], utc=True))


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES * 4, show_spinner=False)
def reorg_trend(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    grain: str,
    team: str,
    metric: str,
    first: dt.datetime,
    last: dt.datetime,
) -> pd.DataFrame:
    """p50/p85/p95 per week or month of one turnaround metric of work items or support
    requests (`samples.TURNAROUND_METRICS`; a pull request's has no rows) of `team` (or
    "(all)") between `first` and `last` (a reorg's periods, whatever the window): the
    samples the reorg comparison uses."""
    samples = _long_samples(url, config_file, now)
    at = samples["at"]
    rows = samples[
        (samples["team"] == team)
        & (samples["metric"] == metric)
        & (at >= pd.Timestamp(first))
        & (at < pd.Timestamp(last))
    ]
    return drilldown.period_percentiles(rows, grain, settings(config_file).org.timezone)


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner=False)
def support(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime
) -> dict[str, pd.DataFrame]:
    """Support requests created in the window (no person names) and the team-to-team flows.

    `requests` columns: key, summary, url, priority, created_at, done_at, requesting_team,
    serving_team, first response / resolution hours, targets, ratios and breach flags
    (judged at the window's end, or now if earlier, as the report does).
    """
    requests = _samples(url, config_file, start, end, now, "requests")
    window = widen(start, end, settings(config_file).org.timezone)
    as_of_ = pd.Timestamp(min(window.end_ns, pd.Timestamp(now).value), tz="UTC")
    requests = breaches(requests, as_of_)
    requests = requests[_inside(requests["created_at"], window)]
    requests = drilldown.against_target(requests)
    text = _texts(url, requests["item_id"], pd.Series([], dtype=object))["items"]
    requests = requests.join(text[["summary", "url"]], on="item_id")
    flows = drilldown.support_flows(requests)
    requests = requests.drop(columns=["reporter", "serving_person"])
    return {"requests": requests.reset_index(drop=True), "flows": flows}


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner="Reading the cluster…")
def cluster(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime
) -> dict[str, pd.DataFrame]:
    """`metrics.cluster.cluster_weekly` of the window, plus the raw events for the timeline."""
    cfg = settings(config_file)
    window = widen(start, end, cfg.org.timezone)
    with engine(url).connect() as conn:
        frames = cluster_queries.cluster_frames(conn, window.start, window.end)
    out = cluster_weekly(frames, window, now, cfg.team_names())
    return {**out, "raw_events": frames["cluster_events"]}


@st.cache_data(ttl=TTL, show_spinner=False)
def cluster_history(url: str) -> dict[str, dt.datetime | None]:
    """Where the stored cluster history comes from (`db.cluster_queries.cluster_history`)."""
    with engine(url).connect() as conn:
        return cluster_queries.cluster_history(conn)


def _inside(instants: pd.Series, window: Window) -> pd.Series:
    values = pd.to_datetime(instants, utc=True)
    return (values >= window.start) & (values < window.end)


# --- person-level: only the viewer's teams ---------------------------------------------------


def _visible(frame: pd.DataFrame, people_teams: frozenset[str]) -> pd.DataFrame:
    return frame[frame["team"].isin(people_teams)].reset_index(drop=True)


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner=False)
def people_allocation(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    people_teams: frozenset[str],
) -> pd.DataFrame:
    """FTE per team, person, week and category (`drilldown.person_weekly_fte`) for
    `people_teams` only; a person counts in a team on the days they were its member."""
    days = _member_days(url, config_file, start, end, now)
    days = days[days["team"].isin(people_teams)]
    window = widen(start, end, settings(config_file).org.timezone)
    return drilldown.person_weekly_fte(days, window.weeks)


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES * 4, show_spinner=False)
def people_items(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    people_teams: frozenset[str],
    team: str,
    category: str | None = None,
    weeks: tuple[dt.date, ...] | None = None,
) -> pd.DataFrame:
    """The items and PRs behind `team`'s FTE (optionally one category, some weeks), with the
    person who worked on each, their key, title and link; empty unless `team` is in
    `people_teams` (the rows name people)."""
    columns = ["category", "key", "title", "person", "fte", "link", "kind"]
    if team not in people_teams:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    kept = _kept_weeks(url, config_file, start, end, now, things_of=team)
    days = kept.things if kept is not None else team_days(url, config_file, start, end, now)
    days = days[days["team"] == team]
    if category is not None:
        days = days[days["category"] == category]
    window = widen(start, end, settings(config_file).org.timezone)
    things = drilldown.thing_fte(days, window.weeks, list(weeks) if weeks else None)
    is_pr = things["thing"] == "pr"
    ids = things["thing_id"]
    texts = _texts(url, ids[~is_pr], ids[is_pr])
    items, pulls = texts["items"], texts["pulls"]
    key = ids.where(is_pr).map(pulls["label"])
    key = key.where(is_pr, ids.map(items["key"]))
    title = ids.map(items["summary"]).where(~is_pr, "")
    link = ids.where(is_pr).map(pulls["url"]).where(is_pr, ids.map(items["url"]))
    return pd.DataFrame(
        {
            "category": things["category"],
            "key": key.astype(object),
            "title": title.astype(object),
            "person": things["person"],
            "fte": things["fte"],
            "link": link.astype(object),
            "kind": is_pr.map({True: "pull request", False: "work item"}),
        }
    )[columns]


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner=False)
def people_load(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    people_teams: frozenset[str],
) -> pd.DataFrame:
    """Each member's own weekly load and state (columns: team, person, week, load, state),
    for `people_teams` only and only for the weeks the person was a member of that team."""
    columns = ["team", "person", "week", "load", "state"]
    full = summary_tables(_full_summary(url, config_file, start, end, now))["load_weekly"]
    rows = full[full["person"].notna() & full["team"].isin(people_teams)]
    if rows.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    days = _member_days(url, config_file, start, end, now)
    window = widen(start, end, settings(config_file).org.timezone)
    member_weeks = days[["team", "person", "week"]].drop_duplicates()
    member_weeks = member_weeks.assign(week=[window.weeks[w] for w in member_weeks["week"]])
    rows = rows.assign(week=pd.to_datetime(rows["week"]).dt.date)
    return rows.merge(member_weeks, on=["team", "person", "week"], how="inner")[columns]


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner=False)
def people_concentration(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    people_teams: frozenset[str],
) -> dict[str, str | None]:
    """Team -> the member who carried most of its support and unplanned work, for
    `people_teams` only."""
    full = _full_summary(url, config_file, start, end, now)
    return {
        t["team"]: t["concentration"]["top1_person"]
        for t in full["teams"]
        if t["team"] in people_teams
    }


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner=False)
def people_ageing(
    url: str,
    config_file: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    people_teams: frozenset[str],
) -> pd.DataFrame:
    """Work in progress oldest first (`drilldown.ageing_wip`) with title, status and link,
    for items whose current assignee is now in one of `people_teams`."""
    found = open_facts(url, config_file, now)
    wip = _visible(drilldown.ageing_wip(found), people_teams)
    text = found.frames.items.set_index("item_id")[["summary", "status", "url"]]
    return wip.join(text, on="item_id")


@st.cache_resource(ttl=METRICS_TTL, max_entries=2, show_spinner=False)
def open_facts(url: str, config_file: str, now: dt.datetime) -> Facts:
    """The facts of the work items open at `now` (no pull requests): all that work in
    progress reads, a small part of a window's."""
    with engine(url).connect() as conn:
        return reading.facts_between(conn, settings(config_file), (now, now), now, work_only=True)


# --- data health ---------------------------------------------------------------------------


STREAM_HEADINGS = {
    "last_success": "last success",
    "last_error": "last error",
    "next_run": "next run",
    "rows": "rows (last run)",
    "rejects": "rejects (last run)",
    "rejects_kept": "rejects kept",
}


@st.cache_data(ttl=TTL, show_spinner=False)
def health(url: str) -> dict[str, Any]:
    with session_scope(engine(url)) as session:
        streams = queries.stream_overview(session)
        rejects = queries.recent_rejects(session, limit=200)
        unmapped = queries.unmapped_identities(session)
    return {
        "streams": pd.DataFrame(streams, columns=list(queries.STREAM_COLUMNS)).rename(
            columns=STREAM_HEADINGS
        ),
        "rejects": pd.DataFrame(
            [
                {
                    "at": r.at,
                    "source": r.source,
                    "stream": r.stream,
                    "key": r.key,
                    "reason": r.reason,
                    "excerpt": r.payload,
                }
                for r in rejects
            ]
        ),
        "unmapped": pd.DataFrame(
            [
                {"source": i.source, "account": i.value, "name": i.display_name, "e-mail": i.email}
                for i in unmapped
            ]
        ),
    }


@st.cache_resource(ttl=METRICS_TTL, max_entries=ENTRIES, show_spinner=False)
def uncategorized(
    url: str, config_file: str, start: dt.date, end: dt.date, now: dt.datetime
) -> pd.DataFrame:
    """Work items alive in the window that no category rule matched (no person names).

    Alive as `queries.metric_frames` reads them: created by the window's end and not
    done before its start (the facts also hold the period before the window).
    """
    cfg = settings(config_file)
    with engine(url).connect() as conn:
        raw = queries.items_alive(conn, *reading.window_span(cfg, start, end, now))
    rules = item_rules(raw, cfg)
    loose = raw[(rules["category"] == "uncategorized").to_numpy()]
    columns = ["key", "project", "issue_type", "summary", "url", "labels", "components"]
    return loose[columns].reset_index(drop=True)


def freshness(url: str) -> dict[str, dt.datetime | None]:
    """Source -> its oldest last success over its streams (None: a stream never succeeded)."""
    streams = health(url)["streams"]
    out: dict[str, dt.datetime | None] = {}
    for source, rows in streams.groupby("source"):
        values = rows["last success"]
        out[str(source)] = (
            None if values.isna().any() else pd.Timestamp(values.min()).to_pydatetime()
        )
    return out


@st.cache_resource(ttl=METRICS_TTL, max_entries=2, show_spinner="Forecasting each team's load…")
def forecast(url: str, config_file: str, now: dt.datetime) -> dict[str, Any]:
    """Every team's load forecast for the next 12 weeks with its backtest (the same for
    every window and team filter, so computed once per `now`)."""
    cfg = settings(config_file)
    with engine(url).connect() as conn:
        if _from_rollups(url, config_file, now):
            from metrics import rollup

            kept = rollup.forecast(conn, cfg, None)
            if kept is not None:
                return kept
        return reading.forecast(conn, cfg, None, now)
