"""Load (work in progress per person) per team and per person, and its floods and droughts.

A team's load in a week = the time-averaged number of work items in an `active` stage
assigned to its members (membership judged per local day), divided by the average
number of members that week. Both are time averages over the same week, so the load
is active item-hours / member-hours. The week is cut at `now`: the current week is
averaged over its elapsed part, a week that has not begun has no load. The org's load
(`org_load`) is the same ratio over every member of any team, each person counted once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from config.schema import Load
from metrics.facts import Facts
from metrics.intervals import group_codes, split_by_day
from metrics.stages import ACTIVE
from metrics.weeks import Window

FLOOD, DROUGHT, NORMAL = "flood", "drought", "normal"
_TOLERANCE = 1e-9  # so 3.0 >= 1.5 x 2.0 holds despite binary fractions

LOAD_COLUMNS: tuple[str, ...] = ("week", "active_item_hours", "member_hours", "members", "load")


def _day_hours(window: Window, now_ns: int) -> np.ndarray:
    """Hours of each window day that have elapsed by `now` (DST days are 23 or 25 h)."""
    start = window.bounds_ns[:-1]
    end = np.minimum(window.bounds_ns[1:], now_ns)
    return np.maximum(end - start, 0) / 3.6e12


def _hours_by_person_day(facts: Facts, window: Window, people: pd.Index) -> pd.Series:
    """Active, assigned item-hours per (person code x n_days + day), cut at local midnights."""
    seg = facts.segments(window)
    pick = np.flatnonzero((seg.stage == ACTIVE) & (seg.person >= 0))
    pieces = split_by_day(seg.start_ns[pick], seg.end_ns[pick], window.bounds_ns)
    rows = pick[pieces.row]
    person = people.get_indexer(seg.names)[seg.person[rows]] if len(rows) else rows
    keep = person >= 0
    keys = person[keep] * window.n_days + pieces.day[keep]
    unique, inverse, _ = group_codes(keys)
    sums = np.bincount(inverse, weights=pieces.overlap_ns[keep] / 3.6e12, minlength=len(unique))
    return pd.Series(sums, index=unique)


def _weekly(
    groups: np.ndarray,
    labels: list[str],
    day: np.ndarray,
    item_hours: np.ndarray,
    member_hours: np.ndarray,
    window: Window,
) -> tuple[pd.Series, pd.Series]:
    """Sum item- and member-hours per (label, week), every label x week present."""
    slot = groups * window.n_weeks + window.week_of_day(day)
    size = len(labels) * window.n_weeks
    full = pd.MultiIndex.from_product([labels, range(window.n_weeks)], names=["key", "week"])
    ok = groups >= 0
    items = np.bincount(slot[ok], weights=item_hours[ok], minlength=size)
    members = np.bincount(slot[ok], weights=member_hours[ok], minlength=size)
    return pd.Series(items, index=full), pd.Series(members, index=full)


def team_load(facts: Facts, window: Window, teams: list[str]) -> pd.DataFrame:
    """Weekly load per team.

    Input: facts (segments, memberships), window, teams. Output columns: team, week
    (Monday, date), active_item_hours, member_hours, members (average members over
    the elapsed part of the week), load (active_item_hours / member_hours; NaN for a week
    with no members). Every team x week is present.
    """
    return _members_load(facts, window, teams, facts.member_days(window))


def org_load(facts: Facts, window: Window, teams: list[str], label: str) -> pd.DataFrame:
    """Weekly load of the whole org, as one group named `label`: `team_load`'s columns.

    The org's members on a day are the people who were members of any of `teams` that
    day, each counted once (a person in two teams is one person with one set of items),
    so the load is work in progress per person over all members.
    """
    members = facts.member_days(window)
    members = members[members["team"].isin(teams)]
    members = members.drop_duplicates(["person", "day"]).assign(team=label)
    return _members_load(facts, window, [label], members)


def _members_load(
    facts: Facts, window: Window, teams: list[str], members: pd.DataFrame
) -> pd.DataFrame:
    """`team_load` over the given (person, team, day) member rows."""
    people = pd.Index(pd.unique(members["person"].astype(object)), dtype=object)
    day = members["day"].to_numpy()
    keys = people.get_indexer(members["person"].to_numpy(dtype=object)) * window.n_days + day
    by_key = _hours_by_person_day(facts, window, people)
    where = pd.Index(by_key.index).get_indexer(keys)
    item_hours = np.append(by_key.to_numpy(), 0.0)[where]
    member_hours = _day_hours(window, facts.now_ns)[day]
    groups = pd.Index(teams, dtype=object).get_indexer(members["team"].to_numpy(dtype=object))
    items, hours = _weekly(groups, teams, day, item_hours, member_hours, window)
    return _finish(items, hours, window, _day_hours(window, facts.now_ns), "team")


def person_load(facts: Facts, window: Window, people: list[str] | None = None) -> pd.DataFrame:
    """Weekly load per person: active items assigned to them, time-averaged over the hours
    they belonged to any team (null in a week with no membership).

    Output columns: person, week, active_item_hours, member_hours, members (fraction of
    the elapsed week they were a member), load. `people` defaults to everyone with a
    membership in the window, sorted by name.
    """
    members = facts.member_days(window)[["person", "day"]].drop_duplicates()
    if people is None:
        people = sorted(members["person"].astype(str).unique())
    index = pd.Index(people, dtype=object)
    day = members["day"].to_numpy()
    groups = index.get_indexer(members["person"].to_numpy(dtype=object))
    by_key = _hours_by_person_day(facts, window, index)
    where = pd.Index(by_key.index).get_indexer(groups * window.n_days + day)
    item_hours = np.where(groups >= 0, np.append(by_key.to_numpy(), 0.0)[where], 0.0)
    member_hours = _day_hours(window, facts.now_ns)[day]
    items, hours = _weekly(groups, list(people), day, item_hours, member_hours, window)
    return _finish(items, hours, window, _day_hours(window, facts.now_ns), "person")


def _finish(
    item_hours: pd.Series,
    member_hours: pd.Series,
    window: Window,
    day_hours: np.ndarray,
    key: str,
) -> pd.DataFrame:
    out = pd.DataFrame({"active_item_hours": item_hours, "member_hours": member_hours})
    out = out.reset_index().rename(columns={"key": key})
    week_hours = day_hours.reshape(-1, 7).sum(axis=1)[out["week"].to_numpy()]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["members"] = np.where(week_hours > 0, out["member_hours"].to_numpy() / week_hours, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["load"] = np.where(
            out["member_hours"] > 0, out["active_item_hours"] / out["member_hours"], np.nan
        )
    out["week"] = [window.weeks[w] for w in out["week"]]
    return out[[key, *LOAD_COLUMNS]]


def states(load: pd.Series | np.ndarray, settings: Load) -> tuple[float | None, np.ndarray]:
    """Baseline (median of the non-null weekly loads) and each week's state.

    A week is a flood when load >= flood_factor x baseline, a drought when load <=
    drought_factor x baseline, otherwise normal; with a baseline of 0 any load is a
    flood and no week is a drought (the general rule would make every week a flood and
    the team's usual empty weeks droughts); a null load has no state (None).
    Comparisons allow 1e-9 for floating-point noise.
    """
    values = np.asarray(load, dtype=np.float64)
    known = ~np.isnan(values)
    state = np.full(len(values), None, dtype=object)
    if not known.any():
        return None, state
    baseline = float(np.median(values[known]))
    if baseline == 0:
        flood = known & (values > 0)
        drought = np.zeros(len(values), dtype=bool)
    else:
        flood = known & (values >= settings.flood_factor * baseline - _TOLERANCE)
        drought = known & (values <= settings.drought_factor * baseline + _TOLERANCE) & ~flood
    state[known] = NORMAL
    state[flood] = FLOOD
    state[drought] = DROUGHT
    return baseline, state


def longest_streak(state: np.ndarray, wanted: str) -> int:
    """Longest run of consecutive weeks in `wanted` (a null week breaks a run)."""
    best = current = 0
    for value in state:
        current = current + 1 if value == wanted else 0
        best = max(best, current)
    return best


def variability(load: pd.Series | np.ndarray, settings: Load) -> dict[str, object]:
    """Baseline, states and their summary for one weekly load series.

    Output keys: baseline, cv (population std / mean of the non-null weeks; None when
    the mean is 0 or there is no data), flood_weeks, drought_weeks, longest_flood,
    longest_drought, flood_share and drought_share (over weeks with a load), states.
    """
    values = np.asarray(load, dtype=np.float64)
    baseline, state = states(values, settings)
    known = values[~np.isnan(values)]
    mean = float(known.mean()) if len(known) else 0.0
    cv = float(known.std(ddof=0) / mean) if len(known) and mean > 0 else None
    flood = int(np.sum(state == FLOOD))
    drought = int(np.sum(state == DROUGHT))
    return {
        "baseline": baseline,
        "cv": cv,
        "flood_weeks": flood,
        "drought_weeks": drought,
        "longest_flood": longest_streak(state, FLOOD),
        "longest_drought": longest_streak(state, DROUGHT),
        "flood_share": flood / len(known) if len(known) else None,
        "drought_share": drought / len(known) if len(known) else None,
        "states": state,
    }
