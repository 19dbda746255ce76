"""Work allocation by person-day attribution: where each team's time goes, by category per week.

For each person and weekday (Mon-Fri, org timezone) the set of things worked on is:
the work items in an `active` stage while assigned to them for a positive time that
day, plus the non-draft pull requests they authored that were open that day and are
not linked to one of those items. The day counts 1.0 and is split evenly across the
set; an empty set is `no tracked work`. A team's week is the sum over the people who
were members on each day; a week of one person is 1.0 FTE (5 weekdays).

Days that have not begun by `now` are not counted at all (they would otherwise show
as "no tracked work"); the current day is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics.facts import Facts
from metrics.intervals import NAT_NS, contained, group_codes, ns, split_by_day, unique_sorted
from metrics.rules import NO_TRACKED_WORK, category_names
from metrics.stages import ACTIVE
from metrics.weeks import Window

PERSON_DAYS: tuple[str, ...] = (
    "person",
    "day",
    "thing",
    "thing_id",
    "category",
    "unplanned",
    "support",
    "weight",
)
TEAM_DAYS: tuple[str, ...] = ("team", *PERSON_DAYS, "week")


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    dtypes = {
        "day": "int64",
        "week": "int64",
        "weight": "float64",
        "unplanned": "bool",
        "support": "bool",
    }
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, "object")) for c in columns})


def counted_days(window: Window, now_ns: int) -> np.ndarray:
    """Window day indexes that count for allocation: weekdays that began by `now`."""
    begun = window.bounds_ns[:-1] <= now_ns
    return np.flatnonzero(window.weekdays & begun)


@dataclass(frozen=True)
class _Things:
    """Person-day things in integer form: key = person code x n_days + day."""

    people: pd.Index
    key: np.ndarray
    is_pr: np.ndarray
    row: np.ndarray  # item position (facts.items) or PR row (facts.pulls)
    weight: np.ndarray


def _people(facts: Facts, window: Window, members: pd.DataFrame) -> pd.Index:
    seg = facts.segments(window)
    names = np.concatenate(
        [
            seg.names.astype(object),
            members["person"].to_numpy(dtype=object),
            facts.pulls["author"].dropna().to_numpy(dtype=object),
        ]
    )
    return pd.Index(pd.unique(pd.Series(names, dtype=object)), dtype=object)


def _things(facts: Facts, window: Window, people: pd.Index) -> _Things:
    n_days = window.n_days
    n_items = max(len(facts.items), 1)
    is_counted = np.zeros(n_days, bool)
    is_counted[counted_days(window, facts.now_ns)] = True

    seg = facts.segments(window)
    pick = np.flatnonzero((seg.stage == ACTIVE) & (seg.person >= 0))
    pieces = split_by_day(seg.start_ns[pick], seg.end_ns[pick], window.bounds_ns)
    keep = (pieces.overlap_ns > 0) & is_counted[pieces.day]
    rows = pick[pieces.row[keep]]
    person = people.get_indexer(seg.names)[seg.person[rows]] if len(rows) else rows
    # One entry per (person, day, item), however many segments touched that day.
    item_keys = unique_sorted((person * n_days + pieces.day[keep]) * n_items + seg.pos[rows])
    item_key, item_pos = np.divmod(item_keys, n_items)

    pulls = facts.pulls
    ready, merged, closed = ns(pulls["ready_at"]), ns(pulls["merged_at"]), ns(pulls["closed_at"])
    closed = np.where((closed != NAT_NS) & (closed <= facts.now_ns), closed, NAT_NS)
    end = np.where(merged != NAT_NS, merged, np.where(closed != NAT_NS, closed, facts.now_ns))
    author = people.get_indexer(pulls["author"].to_numpy(dtype=object))
    usable = np.flatnonzero((ready != NAT_NS) & (author >= 0))
    pieces = split_by_day(ready[usable], end[usable], window.bounds_ns)
    keep = (pieces.overlap_ns > 0) & is_counted[pieces.day]
    pr_row = usable[pieces.row[keep]]
    pr_key = author[pr_row] * n_days + pieces.day[keep]
    # A PR linked to an item its author worked on that day is part of that item.
    links = pulls["linked_item_ids"].to_numpy()[pr_row]
    lengths = np.fromiter((len(v) for v in links), np.int64, count=len(links))
    if lengths.sum():
        linked_pos = pd.Index(facts.items["item_id"]).get_indexer([x for v in links for x in v])
        piece = np.repeat(np.arange(len(pr_row)), lengths)
        hit = contained(np.repeat(pr_key, lengths) * n_items + linked_pos, item_keys)
        hit &= linked_pos >= 0
        clash = np.zeros(len(pr_row), bool)
        clash[piece[hit]] = True
        pr_row, pr_key = pr_row[~clash], pr_key[~clash]

    key = np.concatenate([item_key, pr_key])
    _, inverse, counts = group_codes(key)
    return _Things(
        people=people,
        key=key,
        is_pr=np.r_[np.zeros(len(item_key), bool), np.ones(len(pr_key), bool)],
        row=np.concatenate([item_pos, pr_row]),
        weight=1.0 / counts[inverse] if len(key) else np.array([], np.float64),
    )


def _describe(facts: Facts, is_pr: np.ndarray, row: np.ndarray) -> dict[str, np.ndarray]:
    """thing, thing_id, category, unplanned, support of coded things (row -1 = nothing)."""
    items, pulls = facts.items, facts.pulls
    out: dict[str, np.ndarray] = {}
    nothing = row < 0
    item_rows = np.where(~is_pr & ~nothing, row, 0)
    pr_rows = np.where(is_pr & ~nothing, row, 0)
    for column, item_column, pr_column in (
        ("thing_id", "item_id", "pr_id"),
        ("category", "category", "category"),
        ("unplanned", "unplanned", "unplanned"),
        ("support", "support", "support"),
    ):
        a = items[item_column].to_numpy(dtype=object)
        b = pulls[pr_column].to_numpy(dtype=object)
        a = np.append(a, None)[np.where(nothing, len(a), item_rows)] if len(row) else a[:0]
        b = np.append(b, None)[np.where(nothing, len(b), pr_rows)] if len(row) else b[:0]
        out[column] = np.where(is_pr, b, a)
    out["thing"] = np.where(nothing, None, np.where(is_pr, "pr", "item")).astype(object)
    out["category"] = np.where(nothing, NO_TRACKED_WORK, out["category"])
    out["unplanned"] = np.where(nothing, False, out["unplanned"]).astype(bool)
    out["support"] = np.where(nothing, False, out["support"]).astype(bool)
    return out


def person_days(facts: Facts, window: Window) -> pd.DataFrame:
    """The things each person worked on each counted weekday, with their share of the day.

    Input: facts (items, segments, pulls), window. Output columns (PERSON_DAYS): person,
    day (window day index), thing ("item" / "pr"), thing_id (item_id / pr_id), category,
    unplanned, support, weight (1 / size of that person's set that day). Days with an
    empty set have no row here (see `team_days`).
    """
    members = facts.member_days(window)
    things = _things(facts, window, _people(facts, window, members))
    if len(things.key) == 0:
        return _empty(PERSON_DAYS)
    person, day = np.divmod(things.key, window.n_days)
    described = _describe(facts, things.is_pr, things.row)
    frame = pd.DataFrame(
        {
            "person": pd.Series(things.people.to_numpy()[person], dtype=object),
            "day": day,
            **{k: pd.Series(v, dtype=object) for k, v in described.items()},
            "weight": things.weight,
        }
    )
    return frame.astype({"unplanned": bool, "support": bool})[list(PERSON_DAYS)]


def team_days(facts: Facts, window: Window) -> pd.DataFrame:
    """Every member-day of every team with what it went to.

    Input: facts (memberships, items, segments, pulls), window. Output columns
    (TEAM_DAYS): team, person, day, thing, thing_id, category, unplanned, support,
    weight, week (window week index). A member-day with nothing tracked is one row of
    category "no tracked work", weight 1.0. A person in two teams that day counts in both.
    """
    members = facts.member_days(window)
    members = members[np.isin(members["day"].to_numpy(), counted_days(window, facts.now_ns))]
    if members.empty:
        return _empty(TEAM_DAYS)
    people = _people(facts, window, members)
    things = _things(facts, window, people)
    member_key = people.get_indexer(members["person"].to_numpy(dtype=object)) * window.n_days
    member_key = member_key + members["day"].to_numpy()
    left = pd.DataFrame({"key": member_key, "member": np.arange(len(members))})
    right = pd.DataFrame(
        {"key": things.key, "is_pr": things.is_pr, "row": things.row, "weight": things.weight}
    )
    joined = left.merge(right, on="key", how="left")
    idle = joined["weight"].isna().to_numpy()
    row = np.where(idle, -1, joined["row"].fillna(-1).to_numpy()).astype(np.int64)
    is_pr = joined["is_pr"].fillna(False).to_numpy(dtype=bool)
    described = _describe(facts, is_pr, row)
    member = joined["member"].to_numpy()
    day = members["day"].to_numpy()[member]
    frame = pd.DataFrame(
        {
            "team": pd.Series(members["team"].to_numpy(dtype=object)[member], dtype=object),
            "person": pd.Series(members["person"].to_numpy(dtype=object)[member], dtype=object),
            "day": day,
            **{k: pd.Series(v, dtype=object) for k, v in described.items()},
            "weight": np.where(idle, 1.0, joined["weight"].to_numpy(dtype=np.float64)),
            "week": window.week_of_day(day),
        }
    )
    return frame.astype({"unplanned": bool, "support": bool})[list(TEAM_DAYS)]


def weekly_fte(
    facts: Facts, window: Window, teams: list[str], days: pd.DataFrame | None = None
) -> pd.DataFrame:
    """FTE per team, week and category, zero-filled.

    Input: facts, window, teams, optionally `team_days`. Output columns: team, week
    (Monday, date), category, fte (person-days / 5). Every team x week x category of
    `category_names(config)` is present, in that order.
    """
    days = team_days(facts, window) if days is None else days
    return fte_by_week(days, window, teams, category_names(facts.config))


def fte_by_week(
    days: pd.DataFrame, window: Window, teams: list[str], categories: list[str]
) -> pd.DataFrame:
    """`weekly_fte` of given day rows (team, week index, category, weight): also of their
    weekly sums (`metrics.parts`), which add up to the same figures."""
    sums = days.groupby(["team", "week", "category"])["weight"].sum() / 5.0
    full = pd.MultiIndex.from_product(
        [teams, range(window.n_weeks), categories], names=["team", "week", "category"]
    )
    out = sums.reindex(full, fill_value=0.0).rename("fte").reset_index()
    out["week"] = [window.weeks[w] for w in out["week"]]
    return out


def weekly_planned(
    facts: Facts, window: Window, teams: list[str], days: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Planned vs unplanned FTE per team and week, zero-filled.

    Output columns: team, week (Monday), total_fte (every member-day / 5), tracked_fte
    (excluding no tracked work), planned_fte, unplanned_fte (items matching the config's
    `unplanned` rule, and PRs linked to them or matching it), unplanned_share
    (unplanned / tracked; NaN without tracked work).
    """
    days = team_days(facts, window) if days is None else days
    return planned_by_week(days, window, teams)


def planned_by_week(days: pd.DataFrame, window: Window, teams: list[str]) -> pd.DataFrame:
    """`weekly_planned` of given day rows (or their weekly sums, see `fte_by_week`)."""
    tracked = days["category"] != NO_TRACKED_WORK
    frame = pd.DataFrame(
        {
            "team": days["team"],
            "week": days["week"],
            "total_fte": days["weight"] / 5.0,
            "tracked_fte": np.where(tracked, days["weight"], 0.0) / 5.0,
            "unplanned_fte": np.where(tracked & days["unplanned"], days["weight"], 0.0) / 5.0,
        }
    )
    full = pd.MultiIndex.from_product([teams, range(window.n_weeks)], names=["team", "week"])
    sums = frame.groupby(["team", "week"]).sum().reindex(full, fill_value=0.0).reset_index()
    sums["planned_fte"] = sums["tracked_fte"] - sums["unplanned_fte"]
    with np.errstate(divide="ignore", invalid="ignore"):
        sums["unplanned_share"] = np.where(
            sums["tracked_fte"] > 0, sums["unplanned_fte"] / sums["tracked_fte"], np.nan
        )
    sums["week"] = [window.weeks[w] for w in sums["week"]]
    return sums[
        [
            "team",
            "week",
            "total_fte",
            "tracked_fte",
            "planned_fte",
            "unplanned_fte",
            "unplanned_share",
        ]
    ]


def shares(weekly: pd.DataFrame) -> pd.DataFrame:
    """Share of each category in a team's total FTE over the window.

    Input: `weekly_fte` output. Output columns: team, category, fte (sum over weeks, in
    FTE-weeks), share (fte / team total; NaN when the team had no member-days).
    """
    totals = weekly.groupby(["team", "category"], sort=False)["fte"].sum().reset_index()
    team_total = totals.groupby("team", sort=False)["fte"].transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        totals["share"] = np.where(team_total > 0, totals["fte"] / team_total, np.nan)
    return totals
