"""The detail behind the headline figures: per person, per item, per period, ageing work.

These are the small tables the dashboard shows when someone asks "which items?" or
"who?": each is a pure function over the outputs of the other metric modules, so
the detail always adds up to the headline it explains.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from metrics.facts import Facts
from metrics.intervals import hours, ns
from metrics.membership import teams_at
from metrics.stats import PERCENTILES
from metrics.weeks import local_day_numbers

PERSON_FTE: tuple[str, ...] = ("team", "person", "week", "category", "fte")
THING_FTE: tuple[str, ...] = ("team", "category", "thing", "thing_id", "person", "fte")
PERIOD_PERCENTILES: tuple[str, ...] = ("period", "n", *(f"p{p}" for p in PERCENTILES))
AGEING: tuple[str, ...] = (
    "item_id",
    "key",
    "team",
    "assignee",
    "category",
    "started_at",
    "age_hours",
)
FLOWS: tuple[str, ...] = (
    "requesting_team",
    "serving_team",
    "requests",
    "open",
    "resolution_breaches",
)
GRAINS = ("week", "month")


def _weeks(days: pd.DataFrame, weeks: list[dt.date]) -> pd.Series:
    return pd.Series([weeks[w] for w in days["week"]], index=days.index, dtype=object)


def person_weekly_fte(days: pd.DataFrame, weeks: list[dt.date]) -> pd.DataFrame:
    """FTE per team, person, week and category (only the combinations that occur).

    Input: `allocation.team_days` output and the window's Mondays (`Window.weeks`).
    Output columns (PERSON_FTE): team, person, week (Monday), category, fte (person-days
    / 5). A person's weeks sum to 1.0 per full week of membership, as a team's do.
    """
    if days.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in PERSON_FTE})
    frame = days.assign(week=_weeks(days, weeks), fte=days["weight"] / 5.0)
    out = frame.groupby(["team", "person", "week", "category"], sort=True)["fte"].sum()
    return out.reset_index()[list(PERSON_FTE)]


def thing_fte(
    days: pd.DataFrame, weeks: list[dt.date], only: list[dt.date] | None = None
) -> pd.DataFrame:
    """The items and pull requests behind a team's FTE by category, with who worked on them.

    Input: `allocation.team_days` output, the window's Mondays, and optionally the
    Mondays to keep (None: every week). Output columns (THING_FTE): team, category,
    thing ("item" / "pr"), thing_id, person, fte (FTE-weeks over the kept weeks), largest
    first. "no tracked work" days are not things and are left out; a team's rows of a
    category sum to that category's FTE-weeks.
    """
    frame = days[days["thing"].notna()]
    if only is not None:
        frame = frame[_weeks(frame, weeks).isin(set(only)).to_numpy()]
    if frame.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in THING_FTE})
    frame = frame.assign(fte=frame["weight"] / 5.0)
    keys = ["team", "category", "thing", "thing_id", "person"]
    out = frame.groupby(keys, sort=False)["fte"].sum().reset_index()
    return out.sort_values(["fte", "thing_id"], ascending=[False, True], kind="stable")[
        list(THING_FTE)
    ].reset_index(drop=True)


def period_start(instants: pd.Series, grain: str, timezone: str) -> pd.Series:
    """The first day (a date) of the week (Monday) or month each UTC instant falls in, locally."""
    if grain not in GRAINS:
        raise ValueError(f"grain {grain!r}: choose week or month")
    numbers = local_day_numbers(instants, timezone)
    days = numbers.astype("datetime64[D]")
    if grain == "week":  # day 0, 1970-01-01, was a Thursday: 3 days after a Monday
        starts = days - ((numbers + 3) % 7).astype("timedelta64[D]")
    else:
        starts = days.astype("datetime64[M]").astype("datetime64[D]")
    return pd.Series(starts.astype(object), index=instants.index, dtype=object)


def period_percentiles(samples: pd.DataFrame, grain: str, timezone: str) -> pd.DataFrame:
    """Percentiles of a duration per week or month (org timezone) of the instant placing it.

    Input: columns at (UTC instant), value (hours; NaN ignored). Output columns
    (PERIOD_PERCENTILES): period (first day), n, p50, p85, p95 (numpy's linear
    interpolation), one row per period with at least one value, in order.
    """
    rows = samples[samples["value"].notna() & samples["at"].notna()]
    if rows.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in PERIOD_PERCENTILES})
    periods = period_start(rows["at"], grain, timezone)
    out = []
    for period, values in rows["value"].groupby(periods.to_numpy(), sort=True):
        x = values.to_numpy(np.float64)
        points = np.percentile(x, PERCENTILES)
        out.append(
            {
                "period": period,
                "n": len(x),
                **{f"p{p}": float(v) for p, v in zip(PERCENTILES, points, strict=True)},
            }
        )
    return pd.DataFrame(out, columns=list(PERIOD_PERCENTILES))


def regrain(weekly: pd.DataFrame, by: list[str], values: list[str], grain: str) -> pd.DataFrame:
    """Weekly figures per month: the average week of each month (weeks placed by their Monday).

    Input: a frame with a `week` column (Monday) plus the `by` and `values` columns.
    Output: the `by` columns, `period` (first day of the week or month) and the mean of
    each value over the weeks of that period; with grain "week", the input renamed.
    Averaging keeps the unit: an average month of FTE is still FTE, not FTE-weeks.
    """
    if grain not in GRAINS:
        raise ValueError(f"grain {grain!r}: choose week or month")
    frame = weekly.rename(columns={"week": "period"})
    if grain == "week" or frame.empty:
        return frame[[*by, "period", *values]].reset_index(drop=True)
    frame = frame.assign(period=[d.replace(day=1) for d in frame["period"]])
    out = frame.groupby([*by, "period"], sort=False)[values].mean().reset_index()
    return out.sort_values("period", kind="stable").reset_index(drop=True)


def ageing_wip(facts: Facts) -> pd.DataFrame:
    """Work in progress, oldest first: items started but not done as of `now`.

    Input: facts (items, memberships). Output columns (AGEING): item_id, key, team (the
    current assignee's team now; None when unassigned or in no team), assignee,
    category, started_at (first entry into active or waiting), age_hours (started ->
    now). One row per team of the assignee.
    """
    items = facts.items
    open_ = items[~items["done"] & items["started_at"].notna()].reset_index(drop=True)
    if open_.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in AGEING})
    at_now = pd.Series([facts.now] * len(open_))
    found = teams_at(open_["assignee"], at_now, facts.frames.memberships, facts.timezone)
    frame = open_.assign(row=np.arange(len(open_))).merge(found, on="row", how="left")
    frame["team"] = frame["team"].astype(object).where(frame["team"].notna(), None)
    frame["age_hours"] = hours(facts.now_ns - ns(frame["started_at"]))
    frame = frame.sort_values(["age_hours", "item_id"], ascending=[False, True], kind="stable")
    return frame[list(AGEING)].reset_index(drop=True)


def support_flows(requests: pd.DataFrame) -> pd.DataFrame:
    """Support requests per requesting team -> serving team: how many, open, over target.

    Input: `support.breaches(support_requests(...))` output (one row per request and team
    pair). Output columns (FLOWS): requesting_team ("(no team)" when the reporter was in
    none), serving_team, requests, open (no resolution yet), resolution_breaches; most
    requests first.
    """
    if requests.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in FLOWS})
    frame = requests.drop_duplicates(["item_id", "requesting_team", "serving_team"]).assign(
        requesting_team=lambda f: f["requesting_team"].astype(object).fillna("(no team)"),
        serving_team=lambda f: f["serving_team"].astype(object).fillna("(no team)"),
        open=lambda f: f["resolution_hours"].isna(),
    )
    out = frame.groupby(["requesting_team", "serving_team"], sort=True).agg(
        requests=("item_id", "size"),
        open=("open", "sum"),
        resolution_breaches=("resolution_breach", "sum"),
    )
    out = out.reset_index().astype({"open": int, "resolution_breaches": int})
    return out.sort_values("requests", ascending=False, kind="stable").reset_index(drop=True)


def against_target(requests: pd.DataFrame) -> pd.DataFrame:
    """Each request's first response and resolution as a multiple of its SLA target.

    Input: `support_requests` output. Output: the input plus first_response_ratio and
    resolution_ratio (hours / target hours; NaN while waiting or without a target). A
    ratio above 1 is a breach.
    """
    out = requests.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for event, target, column in (
            ("first_response_hours", "first_response_target_hours", "first_response_ratio"),
            ("resolution_hours", "resolution_target_hours", "resolution_ratio"),
        ):
            goal = out[target].to_numpy(np.float64)
            ratio = out[event].to_numpy(np.float64) / goal
            out[column] = np.where(goal > 0, ratio, np.nan)
    return out
