"""The parts a metrics summary is assembled from: weekly sums and per-item samples.

Every window figure of `metrics.summary` is either a sum over weeks (allocation,
load) or a statistic over the samples of things placed in the window (turnaround,
support, coupling, reorg comparisons). So the summary is built in two steps: the
parts, then the report (`summary.summary_from_parts`). The parts of a week do not
depend on the window they were computed in, which is what lets the database keep
them (`metrics.rollup`): a report over stored parts is the report over freshly
computed ones, figure for figure, and only the weeks a sync touched need computing
again.

- `WeekParts.allocation`: person-days by (team, person, week, category, unplanned,
  support), summed over the week's member-days (`allocation.team_days`); the org's rows
  (team `ALL_TEAMS`) count a person's day once however many teams they were in.
- `WeekParts.loads`: `load.team_load` rows of every team, and the org's (`ALL_TEAMS`).
- `WeekParts.people`: `load.person_load` rows of every person with a membership.
- `WeekParts.things`: the person-days behind the allocation, by item or pull request
  (what the Allocation page lists); not part of the summary.
- `Samples`: `samples.item_samples`, `samples.pr_samples`, `support.support_requests`.
Weeks are Mondays (dates, org timezone).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from config.schema import Config
from metrics.allocation import team_days
from metrics.facts import Facts, choose_teams
from metrics.load import LOAD_COLUMNS, org_load, person_load, team_load
from metrics.samples import ALL_TEAMS, item_samples, pr_samples
from metrics.support import support_requests
from metrics.weeks import Window

ALLOCATION_KEYS: tuple[str, ...] = ("team", "person", "week", "category", "unplanned", "support")
ALLOCATION_COLUMNS: tuple[str, ...] = (*ALLOCATION_KEYS, "weight")
THING_KEYS: tuple[str, ...] = ("team", "person", "week", "category", "thing", "thing_id")
TEAM_LOAD_COLUMNS: tuple[str, ...] = ("team", *LOAD_COLUMNS)
PERSON_LOAD_COLUMNS: tuple[str, ...] = ("person", *LOAD_COLUMNS)


@dataclass(frozen=True)
class WeekParts:
    """Weekly sums of some weeks (see the module docstring); weeks are Monday dates."""

    allocation: pd.DataFrame
    loads: pd.DataFrame
    people: pd.DataFrame
    things: pd.DataFrame

    def weeks(self) -> set[dt.date]:
        return set(self.loads["week"]) | set(self.allocation["week"])


BY_WEEK: tuple[str, ...] = ("team", "week", "category", "unplanned", "support")
BY_PERSON: tuple[str, ...] = ("team", "person", "category", "unplanned", "support")


@dataclass(frozen=True)
class AllocationSums:
    """A window's person-days summed by (team, week index, category, flags) and by (team,
    person, category, flags): all the summary reads of the allocation. The database sums
    its rollups so (`db.rollups.read_allocation_sums`), reading a few thousand rows where
    the person-weeks are hundreds of thousands."""

    by_week: pd.DataFrame
    by_person: pd.DataFrame

    @classmethod
    def of(cls, allocation: pd.DataFrame) -> AllocationSums:
        """From `WeekParts.allocation` rows (weeks as indexes, `for_window`)."""
        return cls(_summed(allocation, BY_WEEK), _summed(allocation, BY_PERSON))

    def typed(self) -> AllocationSums:
        """The same sums with the metric functions' dtypes (also when empty)."""
        return AllocationSums(_typed(self.by_week), _typed(self.by_person))


def _summed(rows: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    return _typed(rows.groupby(list(keys), sort=True)["weight"].sum().reset_index())


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    types: dict[str, object] = {"team": object, "category": object, "weight": "float64"}
    types |= {"unplanned": bool, "support": bool}
    types |= {"week": "int64"} if "week" in frame else {"person": object}
    return frame.astype(types)


@dataclass(frozen=True)
class Samples:
    """Per-item and per-PR samples, window-free (see the module docstring)."""

    items: pd.DataFrame
    pulls: pd.DataFrame
    requests: pd.DataFrame

    @classmethod
    def of(cls, facts: Facts) -> Samples:
        return cls(item_samples(facts), pr_samples(facts), support_requests(facts)).canonical()

    def canonical(self) -> Samples:
        """Rows in one order (by id, then team) whatever they were read from: the reorg
        comparisons' bootstrap draws rows by position."""
        return Samples(
            _ordered(self.items, ["item_id", "team"]),
            _ordered(self.pulls, ["pr_id", "team"]),
            _ordered(self.requests, ["item_id", "requesting_team", "serving_team"]),
        )


def _ordered(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`frame` sorted by `keys` (teams as text, None first), team columns as objects."""
    frame = frame.reset_index(drop=True).astype({k: object for k in keys if k.endswith("team")})
    if "skipped_start" in frame:
        frame = frame.astype({"skipped_start": bool})
    order = pd.DataFrame(
        {k: frame[k].fillna("").astype(str) if k.endswith("team") else frame[k] for k in keys}
    )
    return frame.iloc[order.sort_values(keys, kind="stable").index].reset_index(drop=True)


@dataclass(frozen=True)
class Basis:
    """What a report needs besides the parts: the org file, the moment, the teams known
    from memberships, and when the data starts (the reorg comparisons' earliest period)."""

    config: Config
    now: pd.Timestamp
    membership_teams: tuple[str, ...]
    data_start: pd.Timestamp | None

    @classmethod
    def of(cls, facts: Facts) -> Basis:
        created = pd.concat([facts.items["created_at"], facts.pulls["created_at"]])
        start = created.min() if len(created) else None
        return cls(facts.config, facts.now, tuple(facts.membership_teams()), start)

    @property
    def timezone(self) -> str:
        return self.config.org.timezone

    @property
    def now_ns(self) -> int:
        return int(self.now.value)

    def teams(self, selected: list[str] | None = None) -> list[str]:
        return choose_teams(self.config, list(self.membership_teams), selected)

    def every_team(self) -> list[str]:
        """The org file's teams and those in memberships: every team parts are kept for."""
        return list(dict.fromkeys([*self.teams(None), *self.membership_teams]))


def week_parts(facts: Facts, window: Window) -> WeekParts:
    """The weekly parts of every week of `window`, for every team and person."""
    basis = Basis.of(facts)
    days = team_days(facts, window)
    org_teams = basis.teams(None)
    org_days = days[days["team"].isin(org_teams)]
    org_days = org_days.drop_duplicates(["person", "day", "thing", "thing_id"])
    allocation = pd.concat([days, org_days.assign(team=ALL_TEAMS)], ignore_index=True)
    sums = allocation.groupby(list(ALLOCATION_KEYS), sort=True)["weight"].sum().reset_index()
    sums["week"] = [window.weeks[w] for w in sums["week"]]
    loads = pd.concat(
        [
            team_load(facts, window, basis.every_team()),
            org_load(facts, window, org_teams, ALL_TEAMS),
        ],
        ignore_index=True,
    )
    worked = days[days["thing"].notna()]
    things = worked.groupby(list(THING_KEYS), sort=True)["weight"].sum().reset_index()
    things["week"] = [window.weeks[w] for w in things["week"]]
    return WeekParts(
        allocation=sums[list(ALLOCATION_COLUMNS)],
        loads=loads[list(TEAM_LOAD_COLUMNS)],
        people=person_load(facts, window)[list(PERSON_LOAD_COLUMNS)],
        things=things.astype({"thing_id": "int64"})[[*THING_KEYS, "weight"]],
    )


def for_window(parts: WeekParts, window: Window, teams: list[str]) -> WeekParts:
    """The rows of `window`'s weeks, every team (of `teams` and the org) x week and person
    x week present (a week without rows is a week without members), weeks as the window's
    week index for the allocation and things and Monday dates for the loads, as the
    metric functions take them."""
    index = {week: i for i, week in enumerate(window.weeks)}
    allocation = (
        _indexed(parts.allocation, index)
        .sort_values(list(ALLOCATION_KEYS), kind="stable")
        .astype(
            {
                "team": object,
                "person": object,
                "category": object,
                "unplanned": bool,
                "support": bool,
            }
            | {"weight": "float64"}
        )
    )
    return WeekParts(
        allocation=allocation.reset_index(drop=True),
        loads=_complete(parts.loads, "team", window, [*teams, ALL_TEAMS]),
        people=_complete(parts.people, "person", window),
        things=_indexed(parts.things, index),
    )


def _indexed(rows: pd.DataFrame, index: dict[dt.date, int]) -> pd.DataFrame:
    rows = rows[rows["week"].isin(index)]
    return rows.assign(week=rows["week"].map(index).astype("int64")).reset_index(drop=True)


def _complete(
    rows: pd.DataFrame, key: str, window: Window, names: list[str] | None = None
) -> pd.DataFrame:
    rows = rows[rows["week"].isin(set(window.weeks))]
    names = list(dict.fromkeys([*(names or []), *rows[key]]))
    full = pd.MultiIndex.from_product([names, window.weeks], names=[key, "week"])
    out = rows.set_index([key, "week"]).reindex(full).reset_index()
    for column in ("active_item_hours", "member_hours", "members"):
        out[column] = out[column].astype("float64").fillna(0.0)
    out["load"] = out["load"].astype("float64")
    return out[[key, *LOAD_COLUMNS]]
