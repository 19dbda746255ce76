"""Delivery forecast: when will a set of work items be done, by Monte Carlo over the team's throughput.

The scope is an epic's children, a simple filter (project, labels, keys) or given keys.
The team doing it is the team that did most of its finished items. Each simulated week
the team finishes `rate x fte x focus` of the scope's items, where `rate` is one of the
team's recent weekly throughputs per FTE in the scope's categories (items done / FTE that
week, resampled), `fte` the FTE the team gives those categories (its recent mean, plus a
what-if change), and `focus` the scope's share of what the team finished in them; the
scope grows by one of its recent weekly additions, resampled. The completion week is the
first week the finished work covers the remaining items plus what was added. Percentiles
of the completion dates over the runs give P50/P85/P95. Nothing reads the clock: `as_of`
is given, and only what was known by then is used (so the backtest can replay the past).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics.allocation import weekly_fte
from metrics.facts import Facts
from metrics.intervals import NAT_NS, ns
from metrics.membership import teams_at
from metrics.weeks import Window, widen

RUNS = 10_000
LOOKBACK_WEEKS = 12
HORIZON_WEEKS = 156
PERCENTILES = (50, 85, 95)
_WEEK_NS = 7 * 86_400 * 10**9


@dataclass(frozen=True)
class Scope:
    """Which items to forecast: an epic's children and/or a filter (every given part must match)."""

    epic: str | None = None
    projects: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [f"epic = {self.epic}"] if self.epic else []
        for name, values in (("project", self.projects), ("labels", self.labels)):
            if values:
                parts.append(f"{name} in ({', '.join(values)})")
        if self.keys:
            parts.append(f"key in ({', '.join(self.keys)})")
        return " AND ".join(parts) or "(everything)"


_CLAUSE = re.compile(
    r"""^\s*(epic|"epic link"|parent|project|labels?|key|issuekey)\s*(=|in)\s*"""
    r"""(\([^()]*\)|"[^"]*"|'[^']*'|[^\s()]+)\s*$""",
    re.I,
)


def parse_scope(text: str) -> Scope:
    """A Scope from a JQL subset: clauses joined by AND, each `field = value` or
    `field in (a, b)`, field one of epic / "Epic Link" / parent, project, labels, key.

    Anything else (OR, NOT, functions, other fields) is a ValueError naming the clause.
    """
    found: dict[str, list[str]] = {}
    for clause in re.split(r"\s+AND\s+", text.strip(), flags=re.I):
        match = _CLAUSE.match(clause)
        if not match:
            raise ValueError(
                f"unsupported filter clause {clause.strip()!r}: use epic, project, labels or key "
                "with = or in (...), joined by AND"
            )
        name, _, raw = match.groups()
        raw = raw.strip()
        if raw.startswith("(") and raw.endswith(")"):
            raw = raw[1:-1]
        values = [v.strip().strip("\"'") for v in raw.split(",") if v.strip()]
        name = name.lower().strip('"')
        name = {"epic link": "epic", "parent": "epic", "label": "labels", "issuekey": "key"}.get(
            name, name
        )
        found.setdefault(name, []).extend(values)
    epics = found.get("epic", [])
    if len(epics) > 1:
        raise ValueError("a filter names one epic at most")
    return Scope(
        epic=epics[0] if epics else None,
        projects=tuple(found.get("project", [])),
        labels=tuple(found.get("labels", [])),
        keys=tuple(found.get("key", [])),
    )


def scope_items(facts: Facts, scope: Scope) -> pd.DataFrame:
    """The items of `scope` (epics themselves excluded): facts.items' rows plus epic_key, labels."""
    extra = facts.stages.items[["epic_key", "labels"]].reset_index(drop=True)
    items = pd.concat([facts.items, extra], axis=1)
    keep = items["issue_type"].astype(str).str.casefold() != "epic"
    if scope.epic:
        keep &= items["epic_key"].astype(object) == scope.epic
    if scope.projects:
        keep &= items["project"].isin(scope.projects)
    if scope.labels:
        wanted = set(scope.labels)
        keep &= items["labels"].map(lambda ls: bool(wanted.intersection(ls)))
    if scope.keys:
        keep &= items["key"].isin(scope.keys)
    if not (scope.epic or scope.projects or scope.labels or scope.keys):
        keep &= False
    return items[keep].reset_index(drop=True)


@dataclass
class History:
    """Weekly FTE per team and category, and the items each team finished, over `window`."""

    window: Window
    fte: pd.DataFrame  # index (team, week index), columns: categories
    done: pd.DataFrame  # item_id, team, category, week (index), done_ns
    _teams: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


def delivery_history(facts: Facts, start: dt.date, end: dt.date) -> History:
    """What every forecast over `facts` reads: built once, sliced by each forecast's `as_of`."""
    window = widen(start, end, facts.timezone)
    teams = facts.teams()
    weekly = weekly_fte(facts, window, teams)
    weekly["week"] = [window.weeks.index(w) for w in weekly["week"]]
    fte = weekly.pivot_table(index=["team", "week"], columns="category", values="fte")
    items = facts.items
    done = items[items["done"].to_numpy(bool)].reset_index(drop=True)
    serving = teams_at(
        done["assignee_at_done"], done["done_at"], facts.frames.memberships, facts.timezone
    )
    rows = serving["row"].to_numpy()
    frame = pd.DataFrame(
        {
            "item_id": done["item_id"].to_numpy()[rows],
            "team": serving["team"].to_numpy(dtype=object),
            "category": done["category"].to_numpy(dtype=object)[rows],
            "week": window.week_of_day(window.day_index(done["done_at"].iloc[rows])),
            "done_ns": ns(done["done_at"])[rows],
        }
    )
    return History(window=window, fte=fte, done=frame)


def _week_of(history: History, at_ns: int) -> int:
    """Index of the window week holding the instant (weeks before the window are negative)."""
    day = int(np.searchsorted(history.window.bounds_ns, at_ns, side="right")) - 1
    return day // 7


def _team_of(
    history: History, scope: pd.DataFrame, as_of_ns: int, categories: list[str], lookback: int
) -> str:
    """The team that finished most of the scope by `as_of`, among the teams that gave its
    categories time in the lookback (a team a reorg ended is not asked for a date); else
    the one giving them the most FTE there."""
    week = _week_of(history, as_of_ns)
    fte = history.fte.reset_index()
    recent = fte[(fte["week"] < week) & (fte["week"] >= week - lookback)]
    cols = [c for c in categories if c in recent.columns]
    if recent.empty or not cols:
        raise ValueError("no team has worked on this scope's categories before the forecast date")
    given = recent.groupby("team")[cols].sum().sum(axis=1)
    given = given[given > 0]
    if given.empty:
        raise ValueError("no team has worked on this scope's categories before the forecast date")
    ids = scope.loc[ns(scope["done_at"]) <= as_of_ns, "item_id"]
    done = history.done[history.done["item_id"].isin(ids) & history.done["team"].isin(given.index)]
    if len(done):
        return str(done["team"].value_counts().index[0])
    return str(given.idxmax())


def forecast(
    facts: Facts,
    scope: Scope | pd.DataFrame,
    as_of: pd.Timestamp,
    rng: np.random.Generator,
    *,
    history: History | None = None,
    team: str | None = None,
    fte_change: float = 0.0,
    fte_changes: dict[tuple[str, str], float] | None = None,
    runs: int = RUNS,
    lookback_weeks: int = LOOKBACK_WEEKS,
    horizon_weeks: int = HORIZON_WEEKS,
) -> dict[str, object]:
    """P50/P85/P95 completion dates of the scope's remaining items as of `as_of`.

    `fte_change` adds (or removes) FTE to what the team gives the scope's categories: the
    what-if of moving people or time; `fte_changes` ((team, category) -> FTE, a scenario's
    allocation changes) adds those of the forecast's team and the scope's categories. Output keys: scope, team, categories, items,
    done, remaining, fte, rate_per_fte (mean items per FTE-week), focus, growth_per_week,
    throughput_per_week (mean simulated), p50/p85/p95 (dates, None beyond the horizon),
    beyond_horizon (share of runs not finished in `horizon_weeks`), runs.
    """
    as_of = pd.Timestamp(as_of)
    as_of_ns = int(as_of.value)
    items = scope_items(facts, scope) if isinstance(scope, Scope) else scope
    items = items[ns(items["created_at"]) <= as_of_ns]
    done_ns = ns(items["done_at"])
    is_done = (done_ns != NAT_NS) & (done_ns <= as_of_ns)
    remaining = int((~is_done).sum())
    categories = sorted(set(items["category"].astype(str)))
    out: dict[str, object] = {
        "scope": scope.describe() if isinstance(scope, Scope) else f"{len(items)} items",
        "as_of": as_of.isoformat(),
        "items": len(items),
        "done": int(is_done.sum()),
        "remaining": remaining,
        "categories": categories,
        "runs": runs,
    }
    if len(items) == 0:
        raise ValueError("the scope holds no items created by the forecast date")
    if history is None:
        # Only the lookback is read: the weeks after `as_of` would cost FTE history for nothing.
        history = delivery_history(
            facts,
            (as_of - pd.Timedelta(weeks=lookback_weeks + 1)).date(),
            (as_of + pd.Timedelta(days=1)).date(),
        )
    team = team or _team_of(history, items, as_of_ns, categories, lookback_weeks)
    week = _week_of(history, as_of_ns)
    weeks = np.arange(max(week - lookback_weeks, 0), week)
    fte_table = history.fte.loc[team] if team in history.fte.index.get_level_values(0) else None
    if fte_table is None or len(weeks) == 0:
        raise ValueError(f"no history of team {team!r} before {as_of.date()}")
    cols = [c for c in categories if c in fte_table.columns]
    fte = fte_table.reindex(weeks)[cols].fillna(0.0).sum(axis=1).to_numpy()
    d = history.done
    mine = d[(d["team"] == team) & d["category"].isin(categories) & (d["done_ns"] <= as_of_ns)]
    done_week = np.bincount(
        np.clip(mine["week"].to_numpy() - weeks[0], -1, len(weeks)) + 1, minlength=len(weeks) + 2
    )[1:-1]
    worked = fte > 0
    if not worked.any():
        raise ValueError(f"team {team!r} gave the scope's categories no time before {as_of.date()}")
    rate = done_week[worked] / fte[worked]
    # The scope's share of what the team finished in these categories since the scope
    # began (at most the lookback): an older window would dilute it with weeks it did not exist.
    created = ns(items["created_at"])
    first = max(_week_of(history, int(created.min())), int(weeks[0]))
    since = weeks >= first
    lo_ns = int(history.window.bounds_ns[7 * first])
    scope_done = int((is_done & (done_ns >= lo_ns)).sum())
    total_done = int(done_week[since].sum())
    focus = min(scope_done / total_done, 1.0) if scope_done and total_done else 0.0
    focus = max(focus, 1.0 / max(total_done, 1))
    # Weekly additions to the scope since its first week; the scope is taken to keep
    # growing for as long again as it has grown so far, then to stop.
    bounds = history.window.bounds_ns
    grow_weeks = np.arange(first + 1, week)
    added = np.array(
        [
            ((created >= bounds[7 * w]) & (created < bounds[min(7 * w + 7, len(bounds) - 1)])).sum()
            for w in grow_weeks
        ]
        if len(grow_weeks)
        else [0.0],
        dtype=np.float64,
    )
    age_weeks = max(week - first, 1)
    extra = sum((fte_changes or {}).get((team, c), 0.0) for c in categories)
    plan_fte = max(float(fte.mean()) + fte_change + extra, 0.0)
    finished = rate[rng.integers(len(rate), size=(runs, horizon_weeks))] * plan_fte * focus
    grown = added[rng.integers(len(added), size=(runs, horizon_weeks))]
    grown[:, age_weeks:] = 0.0
    net = np.cumsum(finished - grown, axis=1)
    reached = net >= remaining
    hit = reached.any(axis=1)
    first_week = np.where(hit, reached.argmax(axis=1), horizon_weeks)
    # Within the finishing week, the fraction of it the last items needed.
    row = np.arange(runs)
    before = np.where(first_week > 0, net[row, np.maximum(first_week - 1, 0)], 0.0)
    step = np.where(hit, net[row, np.minimum(first_week, horizon_weeks - 1)] - before, 1.0)
    frac = np.where(hit & (step > 0), np.clip((remaining - before) / step, 0.0, 1.0), 1.0)
    # Unfinished runs sort last (beyond the horizon); a percentile landing there is None.
    finish_weeks = np.where(hit, first_week + frac, horizon_weeks + 1.0)
    if remaining == 0:
        finish_weeks = np.zeros(runs)
    out.update(
        team=team,
        fte=plan_fte,
        rate_per_fte=float(rate.mean()),
        focus=float(focus),
        growth_per_week=float(added.mean()),
        throughput_per_week=float(rate.mean() * plan_fte * focus),
        beyond_horizon=float(np.mean(finish_weeks > horizon_weeks)),
    )
    for p in PERCENTILES:
        value = float(np.percentile(finish_weeks, p))
        out[f"p{p}"] = (
            (as_of + pd.Timedelta(weeks=value)).date() if value <= horizon_weeks else None
        )
    return out


def finished_epics(facts: Facts, min_items: int = 3) -> pd.DataFrame:
    """Epics whose children are all done by `now`: epic_key, start (first child created),
    end (last child done), midpoint, items."""
    extra = facts.stages.items[["epic_key"]].reset_index(drop=True)
    items = pd.concat([facts.items, extra], axis=1)
    items = items[items["epic_key"].notna()]
    if items.empty:
        return pd.DataFrame(columns=["epic_key", "start", "end", "midpoint", "items"])
    grouped = items.groupby("epic_key").agg(
        start=("created_at", "min"),
        end=("done_at", "max"),
        all_done=("done", "all"),
        items=("item_id", "size"),
    )
    grouped = grouped[grouped["all_done"] & (grouped["items"] >= min_items)].reset_index()
    grouped["midpoint"] = grouped["start"] + (grouped["end"] - grouped["start"]) / 2
    return grouped[["epic_key", "start", "end", "midpoint", "items"]]


def backtest(
    facts: Facts, rng: np.random.Generator, *, runs: int = 2_000, history: History | None = None
) -> dict[str, object]:
    """Forecast each finished epic at its midpoint; how many finished by their P50/P85/P95.

    Output keys: epics (rows: epic_key, midpoint, end, p50, p85, p95, hit50/hit85/hit95),
    n, share_by_p50, share_by_p85, share_by_p95 (None when no epic could be forecast).
    An epic whose midpoint forecast fails (no history before it) is listed with error.
    """
    epics = finished_epics(facts)
    rows: list[dict[str, object]] = []
    if len(epics) and history is None:
        history = delivery_history(
            facts,
            (epics["start"].min() - pd.Timedelta(weeks=LOOKBACK_WEEKS + 1)).date(),
            facts.now.date(),
        )
    for epic in epics.itertuples(index=False):
        row: dict[str, object] = {
            "epic_key": epic.epic_key,
            "midpoint": epic.midpoint.date(),
            "end": epic.end.date(),
        }
        try:
            result = forecast(
                facts, Scope(epic=epic.epic_key), epic.midpoint, rng, history=history, runs=runs
            )
        except ValueError as exc:
            rows.append({**row, "error": str(exc)})
            continue
        for p in PERCENTILES:
            date = result[f"p{p}"]
            row[f"p{p}"] = date
            row[f"hit{p}"] = date is not None and epic.end.date() <= date
        rows.append(row)
    scored = [r for r in rows if "error" not in r]
    out: dict[str, object] = {"epics": rows, "n": len(scored)}
    for p in PERCENTILES:
        out[f"share_by_p{p}"] = float(np.mean([r[f"hit{p}"] for r in scored])) if scored else None
    return out
