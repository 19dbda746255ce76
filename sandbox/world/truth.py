"""The sandbox's planted ground truth, computed from the generator's plan with the metric definitions of docs/metrics.md.

The generator decides, before writing any Jira or GitHub record, who works on what
on which day (`Plan.segments`: intervals in which a work item is in an `active`
stage while assigned to a person, and intervals in which an unlinked pull request
of theirs is open and not a draft). It then writes records that realise exactly those
intervals. This module turns the plan into the figures the metrics must recover.

`truth_report(world, start, end)` returns them in the shape of `teamtide metrics`
JSON. Planted (filled) fields:

- per team: `allocation.share` (every category of the org file, `uncategorized`
  and `no tracked work`), `allocation.unplanned_share` (FTE on items matching the
  org file's `unplanned` rule over tracked FTE, i.e. total minus `no tracked work`),
  `allocation.weekly[].fte`; `load.baseline`, `cv`, `flood_weeks`, `drought_weeks`,
  `longest_flood`, `longest_drought`, `flood_share`, `drought_share`,
  `weekly[].load` and `weekly[].state`;
- `org` (the whole organisation, `team` "(all)", `teams` every team of the org file):
  the same planted allocation and load fields as a team's, over every member-day of
  anyone in a team (people in no team, like the contractor, are left out; nobody is in
  two teams on one day, so its weekly FTE is the sum of the teams'). Its load is the
  work in progress per person over all those members;
- `reorgs[].comparisons[]`: medians and sample sizes of support first response
  and resolution, for every request (team `(all)`, metrics `support_*`) and for
  the requesting team (Research, metrics `requested_support_*`: all requests are
  filed from Research, so the figures are the same). Samples are requests by
  creation time: the after window runs from the reorg date (org-timezone midnight)
  for `reorg_days` days but stops at the clock, the before window has the same
  length and ends at the reorg (`reorg_days=None`: the report window, split at the
  reorg). A resolution counts only when the request was done by the clock, a first
  response only when it happened by then.

Everything else (`turnaround`, `support`, `coupling`, confidence intervals,
p-values) is `null`: the plan does not determine it. Activity is cut at the
world's clock (what collectors can see); the default window runs from the first
generated week to the week holding the day before the clock's date, widened to
whole ISO weeks in the org timezone. A week with no members has `load: null`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sandbox.world.model import World

CATEGORIES = ("Infrastructure", "DS support", "Core development", "Research")
UNCATEGORIZED = "uncategorized"
NO_TRACKED_WORK = "no tracked work"
ALL_CATEGORIES = (*CATEGORIES, UNCATEGORIZED, NO_TRACKED_WORK)
NO_WORK = len(ALL_CATEGORIES) - 1
TEAM_NAMES = ("Research", "Squad", "Infra", "Enablement")
REQUESTING_TEAM = "Research"
ALL_TEAMS = "(all)"
FLOOD_FACTOR = 1.5
DROUGHT_FACTOR = 0.5


@dataclass(slots=True)
class Plan:
    """What the generator decided, as arrays; every planted figure derives from it.

    Times are UTC epoch seconds; day k is the org-timezone day starting at
    `day_start[k]` (day 0 is a Monday; the arrays cover whole weeks).
    `segments` columns: person (index into `World.people`), start, end, thing
    (one id per work item or unlinked pull request), category (index into
    `ALL_CATEGORIES`), unplanned (bool), item (True: a work item, False: a pull request).
    `support` columns: created, first_response, done (-1 = none yet).
    """

    first_day: dt.date
    day_start: np.ndarray
    person_team: np.ndarray  # (people, days) int8: index into TEAM_NAMES, -1 = not a member
    segments: dict[str, np.ndarray]
    support: dict[str, np.ndarray]
    reorg_day: int

    @property
    def days(self) -> int:
        return len(self.day_start) - 1

    @property
    def weeks(self) -> int:
        return self.days // 7


def _clipped(plan: Plan, clip: int, items_only: bool) -> dict[str, np.ndarray]:
    seg = plan.segments
    end = np.minimum(seg["end"], clip)
    keep = end > seg["start"]
    if items_only:
        keep &= seg["item"]
    out = {name: column[keep] for name, column in seg.items()}
    out["end"] = end[keep]
    return out


def _expand_days(plan: Plan, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(segment index, day) for every org-timezone day an interval touches."""
    first = np.searchsorted(plan.day_start, start, side="right") - 1
    last = np.searchsorted(plan.day_start, end, side="left") - 1
    first = np.clip(first, 0, plan.days - 1)
    last = np.clip(last, 0, plan.days - 1)
    counts = np.maximum(last - first + 1, 0)
    index = np.repeat(np.arange(len(start)), counts)
    offsets = np.arange(len(index)) - np.repeat(np.cumsum(counts) - counts, counts)
    return index, first[index] + offsets


def person_day_fte(plan: Plan, clip: int) -> tuple[np.ndarray, np.ndarray]:
    """Person-day attribution (docs/metrics.md, "Work allocation"): FTE (people, days, categories) and unplanned FTE.

    Each weekday a person is a member counts 1.0, split evenly across the distinct
    things (items active while assigned to them, unlinked non-draft pull requests
    they authored) that touched that day; an empty day is `no tracked work`, and a day
    that has not begun at `clip` counts nothing.
    """
    people, days = plan.person_team.shape
    seg = _clipped(plan, clip, items_only=False)
    index, day = _expand_days(plan, seg["start"], seg["end"])
    person = seg["person"][index]
    member = (day % 7 < 5) & (plan.person_team[person, day] >= 0)
    index, day, person = index[member], day[member], person[member]
    things = int(seg["thing"].max()) + 1 if len(seg["thing"]) else 1
    person_day = person.astype(np.int64) * days + day
    key = person_day * things + seg["thing"][index]
    _, first = np.unique(key, return_index=True)
    index, person_day = index[first], person_day[first]
    per_day = np.bincount(person_day, minlength=people * days)
    weight = 1.0 / per_day[person_day]
    category = seg["category"][index].astype(np.int64)
    cats = len(ALL_CATEGORIES)
    fte = np.bincount(person_day * cats + category, weights=weight, minlength=people * days * cats)
    fte = fte.reshape(people, days, cats)
    unplanned = np.bincount(
        person_day, weights=weight * seg["unplanned"][index], minlength=people * days
    ).reshape(people, days)
    # a day not yet begun at the clock is nobody's time yet, as in the metrics
    counted = ((np.arange(days) % 7 < 5) & (plan.day_start[:days] < clip))[None, :]
    empty = (plan.person_team >= 0) & counted & (per_day.reshape(people, days) == 0)
    fte[..., NO_WORK] += empty
    return fte, unplanned


def person_day_active_seconds(plan: Plan, clip: int) -> np.ndarray:
    """Seconds each person had each work item in `active` stage assigned to them, per day (summed over items)."""
    people, days = plan.person_team.shape
    seg = _clipped(plan, clip, items_only=True)
    index, day = _expand_days(plan, seg["start"], seg["end"])
    lo = np.maximum(seg["start"][index], plan.day_start[day])
    hi = np.minimum(seg["end"][index], plan.day_start[day + 1])
    seconds = np.maximum(hi - lo, 0).astype(np.float64)
    flat = seg["person"][index].astype(np.int64) * days + day
    return np.bincount(flat, weights=seconds, minlength=people * days).reshape(people, days)


@dataclass(slots=True)
class TeamWeeks:
    """Per team and plan week: FTE by category, unplanned FTE, load (NaN: no members)."""

    fte: np.ndarray  # (teams, weeks, categories)
    unplanned: np.ndarray  # (teams, weeks)
    load: np.ndarray  # (teams, weeks)
    person_fte: np.ndarray  # (people, weeks, categories)
    person_load: np.ndarray  # (people, weeks); NaN when not a member all week
    org_unplanned: np.ndarray  # (weeks,): every member-day of any team
    org_load: np.ndarray  # (weeks,); NaN: nobody in a team that week

    @property
    def org_fte(self) -> np.ndarray:
        """(weeks, categories): FTE summed over everyone (non-members' days count nothing)."""
        return self.person_fte.sum(axis=0)


def team_weeks(plan: Plan, clip: int) -> TeamWeeks:
    """Weekly allocation and load per team and person, activity cut at `clip` (epoch seconds)."""
    fte, unplanned = person_day_fte(plan, clip)
    active = person_day_active_seconds(plan, clip)
    people = plan.person_team.shape[0]
    weeks = plan.weeks
    cats = len(ALL_CATEGORIES)
    week_seconds = (plan.day_start[7::7] - plan.day_start[:-7:7]).astype(np.float64)
    teams = len(TEAM_NAMES)
    team_fte = np.zeros((teams, weeks, cats))
    team_unplanned = np.zeros((teams, weeks))
    team_load = np.full((teams, weeks), np.nan)

    def load_of(mask: np.ndarray) -> np.ndarray:
        members = mask.sum(axis=0).reshape(weeks, 7).mean(axis=1)
        seconds = (active * mask).sum(axis=0).reshape(weeks, 7).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(members > 0, seconds / week_seconds / members, np.nan)

    for t in range(teams):
        mask = plan.person_team == t
        team_fte[t] = (fte * mask[..., None]).sum(axis=0).reshape(weeks, 7, cats).sum(axis=1) / 5
        team_unplanned[t] = (unplanned * mask).sum(axis=0).reshape(weeks, 7).sum(axis=1) / 5
        team_load[t] = load_of(mask)
    # `person_day_fte` counts member-days only, so summing everyone is the org.
    org_unplanned = unplanned.sum(axis=0).reshape(weeks, 7).sum(axis=1) / 5
    org_load = load_of(plan.person_team >= 0)
    person_fte = fte.reshape(people, weeks, 7, cats).sum(axis=2) / 5
    member_days = (plan.person_team >= 0).reshape(people, weeks, 7).sum(axis=2)
    person_seconds = active.reshape(people, weeks, 7).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        person_load = np.where(member_days == 7, person_seconds / week_seconds, np.nan)
    return TeamWeeks(
        team_fte, team_unplanned, team_load, person_fte, person_load, org_unplanned, org_load
    )


def load_states(
    loads: list[float | None], flood: float = FLOOD_FACTOR, drought: float = DROUGHT_FACTOR
) -> dict[str, Any]:
    """docs/metrics.md "Load, floods and droughts" over a window's weekly loads (None: no members)."""
    known = np.array([x for x in loads if x is not None], dtype=float)
    if not len(known):
        return {
            "baseline": None,
            "cv": None,
            "flood_weeks": 0,
            "drought_weeks": 0,
            "longest_flood": 0,
            "longest_drought": 0,
            "flood_share": None,
            "drought_share": None,
            "states": [None] * len(loads),
        }
    baseline = float(np.median(known))
    mean = float(known.mean())
    states: list[str | None] = []
    for x in loads:
        if x is None:
            states.append(None)
        elif baseline == 0:
            states.append("flood" if x > 0 else "normal")
        elif x >= flood * baseline:
            states.append("flood")
        elif x <= drought * baseline:
            states.append("drought")
        else:
            states.append("normal")
    return {
        "baseline": baseline,
        "cv": float(known.std() / mean) if mean > 0 else None,
        "flood_weeks": states.count("flood"),
        "drought_weeks": states.count("drought"),
        "longest_flood": _longest(states, "flood"),
        "longest_drought": _longest(states, "drought"),
        "flood_share": states.count("flood") / len(known),
        "drought_share": states.count("drought") / len(known),
        "states": states,
    }


def _longest(states: list[str | None], state: str) -> int:
    best = run = 0
    for s in states:
        run = run + 1 if s == state else 0
        best = max(best, run)
    return best


def clock_seconds(world: World) -> int:
    return int(world.clock.timestamp())


def default_window(world: World) -> tuple[dt.date, dt.date]:
    """From the first generated week to the week holding the day before the clock's (UTC) date."""
    plan: Plan = world.truth["plan"]
    return plan.first_day, world.clock.date() - dt.timedelta(days=1)


def truth_report(
    world: World,
    start: dt.date | None = None,
    end: dt.date | None = None,
    reorg_days: int | None = 91,
) -> dict[str, Any]:
    """The planted figures for a window, shaped like `teamtide metrics` JSON (see the module docstring)."""
    plan: Plan = world.truth["plan"]
    first, last = default_window(world)
    start = start or first
    end = end or last
    monday = start - dt.timedelta(days=start.weekday())
    sunday = end + dt.timedelta(days=6 - end.weekday())
    clip = clock_seconds(world)
    weeks = team_weeks(plan, clip)
    week_dates: list[dt.date] = []
    index: list[int | None] = []
    day = monday
    while day <= sunday:
        w = (day - plan.first_day).days // 7
        week_dates.append(day)
        index.append(w if 0 <= w < plan.weeks else None)
        day += dt.timedelta(days=7)
    teams = [
        {
            "team": name,
            **_figures(weeks.fte[t], weeks.unplanned[t], weeks.load[t], index, week_dates),
        }
        for t, name in enumerate(TEAM_NAMES)
    ]
    org = {
        "team": ALL_TEAMS,
        "teams": list(TEAM_NAMES),
        **_figures(weeks.org_fte, weeks.org_unplanned, weeks.org_load, index, week_dates),
    }
    return {
        "from": monday.isoformat(),
        "to": sunday.isoformat(),
        "timezone": world.timezone,
        "teams": teams,
        "org": org,
        "coupling": None,
        "reorgs": [_reorg_report(world, plan, monday, sunday, clip, reorg_days)],
    }


def _figures(
    week_fte: np.ndarray,
    week_unplanned: np.ndarray,
    week_load: np.ndarray,
    index: list[int | None],
    week_dates: list[dt.date],
) -> dict[str, Any]:
    """The planted blocks of one group (a team, or the org) from its plan-week series.

    `week_fte` (plan weeks, categories), `week_unplanned` and `week_load` (plan weeks);
    `index`: the plan week of each report week (None: outside the plan).
    """
    cats = len(ALL_CATEGORIES)
    fte = np.array([week_fte[w] if w is not None else np.zeros(cats) for w in index])
    unplanned = sum(float(week_unplanned[w]) for w in index if w is not None)
    loads: list[float | None] = []
    for w in index:
        x = week_load[w] if w is not None else np.nan
        loads.append(None if np.isnan(x) else float(x))
    total = float(fte.sum())
    tracked = total - float(fte[:, NO_WORK].sum())
    share = {
        c: (float(fte[:, k].sum()) / total if total else None) for k, c in enumerate(ALL_CATEGORIES)
    }
    summary = load_states(loads)
    states = summary.pop("states")
    return {
        "allocation": {
            "share": share,
            "unplanned_share": unplanned / tracked if tracked > 0 else None,
            "weekly": [
                {
                    "week": d.isoformat(),
                    "fte": {c: float(row[k]) for k, c in enumerate(ALL_CATEGORIES)},
                }
                for d, row in zip(week_dates, fte, strict=True)
            ],
        },
        "turnaround": None,
        "support": None,
        "load": {
            **summary,
            "weekly": [
                {"week": d.isoformat(), "load": x, "state": s}
                for d, x, s in zip(week_dates, loads, states, strict=True)
            ],
        },
    }


def support_samples(plan: Plan, lo: int, hi: int, clip: int) -> tuple[np.ndarray, np.ndarray]:
    """First-response and resolution hours of support requests created in [lo, hi), as seen at `clip`."""
    s = plan.support
    created = s["created"]
    chosen = (created >= lo) & (created < hi) & (created < clip)
    fr = s["first_response"][chosen]
    done = s["done"][chosen]
    c = created[chosen]
    first_response = (fr[(fr >= 0) & (fr <= clip)] - c[(fr >= 0) & (fr <= clip)]) / 3600
    resolution = (done[(done >= 0) & (done <= clip)] - c[(done >= 0) & (done <= clip)]) / 3600
    return first_response, resolution


def _reorg_report(
    world: World, plan: Plan, monday: dt.date, sunday: dt.date, clip: int, days: int | None
) -> dict[str, Any]:
    reorg = int(plan.day_start[plan.reorg_day])
    if days is None:
        lo = _day_start(plan, monday)
        hi = _day_start(plan, sunday + dt.timedelta(days=1))
        before_lo, before_hi, after_lo = lo, min(reorg, hi), max(reorg, lo)
    else:
        hi = max(min(reorg + days * 86400, clip), reorg)
        before_lo, before_hi, after_lo = max(2 * reorg - hi, int(plan.day_start[0])), reorg, reorg
    before = support_samples(plan, before_lo, before_hi, clip)
    after = support_samples(plan, after_lo, hi, clip)
    comparisons = []
    metrics = [
        (team, prefix + name)
        for team, prefix in ((ALL_TEAMS, ""), (REQUESTING_TEAM, "requested_"))
        for name in ("support_first_response_hours", "support_resolution_hours")
    ]
    for k, (team, metric) in enumerate(metrics):
        b, a = before[k % 2], after[k % 2]
        bm = float(np.median(b)) if len(b) else None
        am = float(np.median(a)) if len(a) else None
        comparisons.append(
            {
                "team": team,
                "metric": metric,
                "before_median": bm,
                "after_median": am,
                "change": (am / bm - 1) if bm and am is not None else None,
                "ci95": None,
                "p_value": None,
                "n_before": len(b),
                "n_after": len(a),
            }
        )
    return {
        "date": world.reorg_date.isoformat(),
        "name": world.reorg_name,
        "before_from": dt.datetime.fromtimestamp(before_lo, dt.UTC).isoformat(),
        "after_to": dt.datetime.fromtimestamp(hi, dt.UTC).isoformat(),
        "comparisons": comparisons,
    }


def _day_start(plan: Plan, day: dt.date) -> int:
    k = (day - plan.first_day).days
    if k < 0:
        return int(plan.day_start[0]) + k * 86400
    if k > plan.days:
        return int(plan.day_start[-1]) + (k - plan.days) * 86400
    return int(plan.day_start[k])


def planted(plan: Plan, clip: int, last_day: dt.date) -> dict[str, Any]:
    """The figures `World.truth` carries: weekly FTE and load per person and team for the whole plan.

    States and baselines are over the default window (the weeks up to `last_day`'s).
    """
    weeks = team_weeks(plan, clip)
    visible = (last_day - plan.first_day).days // 7 + 1
    out: dict[str, Any] = {
        "categories": list(ALL_CATEGORIES),
        "teams": list(TEAM_NAMES),
        "weeks": [plan.first_day + dt.timedelta(days=7 * w) for w in range(plan.weeks)],
        "person_week_fte": weeks.person_fte,
        "person_week_load": weeks.person_load,
        "team_week_fte": {n: weeks.fte[t] for t, n in enumerate(TEAM_NAMES)},
        "team_week_unplanned": {n: weeks.unplanned[t] for t, n in enumerate(TEAM_NAMES)},
        "team_week_load": {n: weeks.load[t] for t, n in enumerate(TEAM_NAMES)},
        "team_week_state": {},
        "team_baseline": {},
    }
    for t, name in enumerate(TEAM_NAMES):
        loads = [None if np.isnan(x) else float(x) for x in weeks.load[t, :visible]]
        summary = load_states(loads)
        out["team_week_state"][name] = summary["states"]
        out["team_baseline"][name] = summary["baseline"]
    return out
